"""timm models by name and timm CheckpointSaver files (no --trust, recorded args used);
Lightning-shaped checkpoints with a non-`model` attribute prefix and hyper-parameters."""
import argparse
import re

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

from core.architectures import ConvNet, parse_arch
from core.cache import ArrayCache
from core.checkpoints import load_checkpoint
from core.datasets import load_digits_test
from core.errors import VersusError
from core.sources import CheckpointSource, evaluate
from tests.model_helpers import digits_tensors, guesses, train


@pytest.fixture(scope="module")
def timm_saver_files(tmp_path_factory):
    import timm
    from timm.utils import CheckpointSaver

    d = tmp_path_factory.mktemp("timm")
    model = timm.create_model("resnet10t", pretrained=False, num_classes=10, in_chans=1)
    x, y = digits_tensors(size=16, mean=0.5, std=0.5)
    train(model, x, y, steps=30)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    args = argparse.Namespace(model="resnet10t", input_size=[1, 16, 16], mean=[0.5], std=[0.5], lr=0.1)
    saver = CheckpointSaver(model, opt, args=args, checkpoint_dir=str(d), recovery_dir=str(d), max_history=2)
    saver.save_checkpoint(epoch=4, metric=0.9)
    return model, d


def test_timm_saver_loads_without_trust_and_uses_recorded_args(timm_saver_files, tmp_path):
    model, d = timm_saver_files
    files = sorted(p.name for p in d.glob("*.pth.tar"))
    assert "model_best.pth.tar" in files and "checkpoint-4.pth.tar" in files
    ckpt = load_checkpoint(d / "checkpoint-4.pth.tar")  # argparse.Namespace: allowed, no trust
    assert ckpt.format == "timm_saver" and ckpt.epoch == 4
    data = load_digits_test()
    p = evaluate([CheckpointSource(str(d / "model_best.pth.tar"))], data,
                 cache=ArrayCache(tmp_path / "c"), probe=False)[0]
    xt, yt = digits_tensors(size=16, mean=0.5, std=0.5, split="test")
    expected = guesses(model, xt)
    np.testing.assert_array_equal(p.guess, expected)
    assert float(p.correct.mean()) == pytest.approx(accuracy_score(yt.numpy(), expected))
    assert p.meta["arch"] == "timm:resnet10t"
    prep = p.meta["preprocessing"]
    assert prep["size"] == [16, 16] and prep["mean"] == [0.5] and prep["channels"] == 1
    assert prep["from"]["size"].startswith("artifact")


def test_timm_arch_by_name_with_kwargs():
    spec = parse_arch("timm:resnet10t(in_chans=1, pretrained=True)")
    assert spec.kind == "timm" and dict(spec.kwargs) == {"in_chans": 1}  # pretrained is never passed
    with pytest.raises(VersusError, match="timm knows no model"):
        from core.architectures import build

        build(parse_arch("timm:no_such_model_xyz"), {"fc.weight": torch.zeros(10, 4)})


def test_timm_family_autodetected(tmp_path):
    import timm

    model = timm.create_model("mobilenetv3_small_100", pretrained=False, num_classes=10, in_chans=1)
    path = tmp_path / "mnv3.pt"
    torch.save(model.state_dict(), path)
    from core.architectures import autodetect

    assert autodetect(load_checkpoint(path).state_dict).label() == "timm:mobilenetv3_small_100"


@pytest.mark.parametrize("prefix", ["net.", "backbone.", "encoder."])
def test_lightning_prefix_and_hyper_parameters(prefix, tmp_path):
    x, y = digits_tensors(size=28, mean=0.5, std=0.5)
    model = train(ConvNet(), x, y, steps=25)
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {prefix + k: v for k, v in model.state_dict().items()}, "epoch": 2,
                "global_step": 50, "pytorch-lightning_version": "2.4.0",
                "hyper_parameters": {"image_size": 28, "mean": [0.5], "std": [0.5], "lr": 1e-3}}, path)
    p = evaluate([CheckpointSource(str(path))], load_digits_test(), cache=ArrayCache(tmp_path / "c"),
                 probe=False)[0]
    xt, _ = digits_tensors(size=28, mean=0.5, std=0.5, split="test")
    np.testing.assert_array_equal(p.guess, guesses(model, xt))
    assert p.meta["format"] == "lightning" and p.meta["epoch"] == 2
    assert p.meta["preprocessing"]["mean"] == [0.5]
    assert p.meta["preprocessing"]["from"]["normalization"].startswith("artifact")


@pytest.mark.parametrize("qualname", ["lightning.fabric.utilities.data.AttributeDict",
                                      "pytorch_lightning.utilities.parsing.AttributeDict"])
def test_lightning_attribute_dict_hyper_parameters_load_without_trust(qualname, tmp_path, monkeypatch):
    """Lightning's save_hyperparameters pickles an AttributeDict; it loads as plain data."""
    import sys
    import types

    module, name = qualname.rsplit(".", 1)
    attribute_dict = type(name, (dict,), {"__module__": module})
    parts = module.split(".")
    for k in range(1, len(parts) + 1):
        monkeypatch.setitem(sys.modules, ".".join(parts[:k]), types.ModuleType(".".join(parts[:k])))
    setattr(sys.modules[module], name, attribute_dict)
    model = ConvNet()
    path = tmp_path / "epoch=3-step=40.ckpt"
    torch.save({"state_dict": {"net." + k: v for k, v in model.state_dict().items()}, "epoch": 3,
                "hyper_parameters": attribute_dict(image_size=28, mean=[0.5], std=[0.5])}, path)
    for k in range(1, len(parts) + 1):  # the loading side has no Lightning installed
        monkeypatch.delitem(sys.modules, ".".join(parts[:k]))
    ckpt = load_checkpoint(path)
    assert ckpt.format == "lightning" and ckpt.epoch == 3
    assert ckpt.extra["recorded"] == {"image_size": 28, "mean": [0.5], "std": [0.5]}


@pytest.mark.parametrize("recorded, says", [
    ({"image_size": 99_999_999}, r"records preprocessing \(.*\) that cannot be used: Size 99999999x99999999 is "
                                 r"outside 1 to 4096 pixels a side"),
    ({"image_size": 28, "mean": [float("nan")], "std": [0.5]}, r"records preprocessing .* The mean \[nan\] holds"),
    ({"image_size": 28, "mean": [0.5], "std": [0.0]}, r"records preprocessing .* Every std value must be positive"),
])
def test_recorded_preprocessing_is_checked_like_the_flags(recorded, says, tmp_path, capsys):
    """A Lightning checkpoint's hyper_parameters get the bounds --size/--mean/--std get: one line
    naming the file (a size of 10^8 had ended in an allocator traceback); flags override them."""
    from core.cli import main

    path = tmp_path / "hp.ckpt"
    torch.save({"state_dict": {"net." + k: v for k, v in ConvNet().state_dict().items()}, "epoch": 1,
                "hyper_parameters": recorded}, path)
    base = ["compare", "--a", str(path), "--b", str(path), "--data", "digits", "--out", str(tmp_path / "o")]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.match(rf"error: {re.escape(str(path))} {says}", err), err
    assert main(base + ["--size", "28", "--mean", "0.5", "--std", "0.5"]) == 0


def test_one_channel_timm_vit_gets_a_one_channel_guess_and_its_fixed_size(tmp_path):
    """A timm ViT saved with in_chans=1 and img_size=32: versus's own ImageNet guess is averaged to
    one channel (it had refused its own 3-value guess), the size is the model's fixed one, and
    both are said; the scores equal timm's forward pass on that input."""
    import timm

    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", num_classes=10, img_size=32, in_chans=1).eval()
    path = tmp_path / "vit.pt"
    torch.save(model.state_dict(), path)
    p = evaluate([CheckpointSource(str(path))], load_digits_test(), cache=ArrayCache(tmp_path / "c"), probe=False)[0]
    prep = p.meta["preprocessing"]
    mean, std = sum((0.485, 0.456, 0.406)) / 3, sum((0.229, 0.224, 0.225)) / 3
    assert prep["size"] == [32, 32] and prep["mean"] == pytest.approx([mean]) and prep["std"] == pytest.approx([std])
    assert prep["from"]["size"].startswith("model (the fixed input size")
    assert "averaged over its 3 channels" in prep["from"]["normalization"]
    assert any("normalization of its preprocessing was guessed" in w for w in p.meta["warnings"])
    xt, _ = digits_tensors(size=32, mean=mean, std=std, split="test")
    with torch.no_grad():
        expected = torch.softmax(model(xt), 1).numpy()
    np.testing.assert_allclose(p.scores, expected, atol=1e-4)
