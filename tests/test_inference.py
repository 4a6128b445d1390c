"""Inference equals a plain PyTorch loop; one pass serves both models; features are kept."""
import numpy as np
import torch

from core.architectures import ConvNet
from core.datasets import load_digits_test
from core.inference import run_models
from core.preprocessing import Preprocessing


def _plain_loop(model, data, size, channels):
    """The W&B quickstart style loop, written independently: one image at a time."""
    out = []
    model.eval()
    with torch.no_grad():
        for i in range(len(data)):
            x = torch.from_numpy(data.image(i).astype(np.float32) / 255.0)[None, None]
            if channels == 3:
                x = x.repeat(1, 3, 1, 1)
            x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
            out.append(torch.softmax(model(x), dim=1)[0].numpy())
    return np.stack(out)


def test_cpu_inference_equals_plain_loop_and_counts_decodes():
    torch.manual_seed(0)
    a, b = ConvNet().eval(), ConvNet(in_channels=3).eval()
    data = load_digits_test()
    pa = Preprocessing(size=(28, 28), channels=1)
    pb = Preprocessing(size=(28, 28), channels=3)
    in_memory = run_models([a, b], [pa, pb], data, torch.device("cpu"), batch_size=64)
    calls = []
    loader = data.loader
    data.loader = lambda i: calls.append(i) or loader(i)
    data.array = None  # decode image by image, as for files on disk
    outs = run_models([a, b], [pa, pb], data, torch.device("cpu"), batch_size=64, keep_features=True)
    assert len(calls) == len(data)  # each image decoded once for both models
    for fast, slow in zip(in_memory, outs):
        np.testing.assert_allclose(fast.scores, slow.scores, atol=1e-6)
    np.testing.assert_allclose(outs[0].scores, _plain_loop(a, data, (28, 28), 1), atol=1e-5)
    np.testing.assert_allclose(outs[1].scores, _plain_loop(b, data, (28, 28), 3), atol=1e-5)
    assert outs[0].scores.dtype == np.float32
    np.testing.assert_allclose(outs[0].scores.sum(axis=1), 1.0, atol=1e-5)
    assert outs[0].features.shape == (len(data), 7 * 7 * 32)
    # the features are what the classifier sees: applying fc to them gives the scores
    logits = a.fc(torch.from_numpy(outs[0].features)).detach()
    np.testing.assert_allclose(torch.softmax(logits, 1).numpy(), outs[0].scores, atol=1e-5)


def test_normalization_is_applied():
    torch.manual_seed(1)
    m = ConvNet().eval()
    data = load_digits_test()
    plain = run_models([m], [Preprocessing((28, 28), 1)], data, torch.device("cpu"))[0].scores
    norm = run_models([m], [Preprocessing((28, 28), 1, (0.5,), (0.25,))], data, torch.device("cpu"))[0].scores
    assert not np.allclose(plain, norm)
