"""The threaded loader gives what a plain single-threaded loop gives on the same files, for 1, 2
and 5 models and images of mixed sizes and modes; each image is decoded once."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core.architectures import ConvNet
from core.datasets import load_data
from core.inference import run_models
from core.preprocessing import Preprocessing


def _gap_net(channels: int, seed: int) -> nn.Module:
    """A small net that takes any input size (global average pooling)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 10)).eval()


def _convnet(channels: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return ConvNet(in_channels=channels).eval()


# (model, preprocessing) pairs; the first two share a preprocessing (one input for both)
MODELS = [
    (lambda: _convnet(1, 0), Preprocessing((28, 28), 1)),
    (lambda: _convnet(1, 1), Preprocessing((28, 28), 1)),
    (lambda: _convnet(3, 2), Preprocessing((28, 28), 3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))),
    (lambda: _gap_net(3, 3), Preprocessing((32, 32), 3)),
    (lambda: _gap_net(1, 4), Preprocessing((24, 20), 1, (0.5,), (0.25,))),
]


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """JPEG and PNG files, RGB and gray, of five different sizes, in three classes."""
    root = tmp_path_factory.mktemp("mixed")
    rng = np.random.default_rng(0)
    sizes = [(20, 20), (31, 17), (64, 48), (28, 28), (9, 40)]
    for i in range(45):
        h, w = sizes[i % len(sizes)]
        cls = root / f"class{i % 3}"
        cls.mkdir(exist_ok=True)
        if i % 4 == 0:
            Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).save(cls / f"g{i:03d}.png")
        else:
            arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(arr).save(cls / f"c{i:03d}.jpg", quality=90)
    return root


def _plain_loop(model: nn.Module, prep: Preprocessing, files: list) -> np.ndarray:
    """Written independently of versus: Pillow, then torch, one image at a time, no threads."""
    out = []
    with torch.no_grad():
        for f in files:
            img = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255.0
            x = torch.from_numpy(img).permute(2, 0, 1)[None]
            if prep.channels == 1:
                x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = F.interpolate(x, size=prep.size, mode="bilinear", align_corners=False, antialias=True)
            if prep.mean is not None:
                x = (x - torch.tensor(prep.mean).view(1, -1, 1, 1)) / torch.tensor(prep.std).view(1, -1, 1, 1)
            out.append(torch.softmax(model(x), dim=1)[0].numpy())
    return np.stack(out)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_loader_equals_plain_loop(mixed_folder, count):
    data = load_data(f"imagefolder:{mixed_folder}")
    assert data.native_size is None and data.native_channels == 3  # mixed sizes, gray and RGB
    models = [make() for make, _ in MODELS[:count]]
    preps = [p for _, p in MODELS[:count]]
    calls = []
    loader = data.loader
    data.loader = lambda i: calls.append(i) or loader(i)
    outs = run_models(models, preps, data, torch.device("cpu"), batch_size=8, workers=2)
    assert sorted(calls) == list(range(len(data)))  # every image decoded exactly once for all models
    for model, prep, out in zip(models, preps, outs):
        want = _plain_loop(model, prep, data.files)
        np.testing.assert_allclose(out.scores, want, atol=1e-5)
        np.testing.assert_array_equal(out.scores.argmax(1), want.argmax(1))
        assert out.meta == {"precision": "fp32", "score_conversion": "softmax", "warnings": []}


def test_worker_count_and_batch_size_do_not_change_results(mixed_folder):
    data = load_data(f"imagefolder:{mixed_folder}")
    models = [make() for make, _ in MODELS]
    preps = [p for _, p in MODELS]
    base = run_models(models, preps, data, torch.device("cpu"), batch_size=64, workers=0)
    for workers, batch in ((1, 5), (3, 16)):
        outs = run_models(models, preps, data, torch.device("cpu"), batch_size=batch, workers=workers)
        for a, b in zip(base, outs):
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def test_shared_size_resized_in_workers_equals_batched_resize(tmp_path):
    """Every image 40x40, every model at 28x28: the workers resize, as apply() would on the batch."""
    rng = np.random.default_rng(3)
    for i in range(20):
        (tmp_path / f"k{i % 2}").mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"k{i % 2}" / f"{i}.png")
    data = load_data(f"imagefolder:{tmp_path}")
    models = [_convnet(3, 7), _convnet(1, 8)]
    preps = [Preprocessing((28, 28), 3), Preprocessing((28, 28), 1)]
    threaded = run_models(models, preps, data, torch.device("cpu"), batch_size=6, workers=2)
    for model, prep, out in zip(models, preps, threaded):
        np.testing.assert_allclose(out.scores, _plain_loop(model, prep, data.files), atol=1e-5)


class _ViewNet(nn.Module):
    """A classic hand-written CNN that flattens with .view(), which channels_last activations refuse."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 28 * 28, 10)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.view(x.size(0), -1))


def test_models_run_channels_last_and_fall_back_when_they_cannot(mixed_folder):
    data = load_data(f"imagefolder:{mixed_folder}")
    view, conv = _ViewNet().eval(), _convnet(1, 0)
    prep = Preprocessing((28, 28), 1)
    outs = run_models([view, conv], [prep, prep], data, torch.device("cpu"), batch_size=16, workers=1)
    for model, out in zip((view, conv), outs):
        np.testing.assert_allclose(out.scores, _plain_loop(model, prep, data.files), atol=1e-5)
        assert model.conv.weight.is_contiguous() if model is view else model.layer1[0].weight.is_contiguous()


def _decode_threads():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("versus-decode")]


def test_ctrl_c_stops_cleanly_and_a_hung_worker_times_out(mixed_folder, monkeypatch):
    import time

    import core.inference.loader as loader_mod
    from core.errors import VersusError

    data = load_data(f"imagefolder:{mixed_folder}")
    model, prep = _convnet(1, 0), Preprocessing((28, 28), 1)

    def interrupt(done, total, rate):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_models([model], [prep], data, torch.device("cpu"), batch_size=4, workers=2, progress=interrupt)
    deadline = time.monotonic() + 10
    while _decode_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _decode_threads() == []  # the workers ended with the run

    read = data.loader
    data.loader = lambda i: time.sleep(3) if i == 9 else read(i)
    monkeypatch.setattr(loader_mod, "DECODE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(loader_mod.file_batches, "__defaults__", (False, 0.5))
    with pytest.raises(VersusError, match=r"^Decoding images 8-11 of imagefolder:.* took over 0.5 s; a worker appears to hang\.$"):
        run_models([model], [prep], data, torch.device("cpu"), batch_size=4, workers=2)
