"""Every checkpoint format gives identical scores; unsafe and broken files are refused clearly."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from core.architectures import ConvNet, autodetect
from core.cache import ArrayCache
from core.checkpoints import epoch_from_name, list_models, load_checkpoint, natural_key
from core.datasets import load_digits_test
from core.errors import VersusError
from core.sources import CheckpointSource, evaluate
from tests.model_helpers import digits_tensors


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return ConvNet().eval()


@pytest.fixture(scope="module")
def formats(model, tmp_path_factory):
    """The same weights saved in every supported format."""
    d = tmp_path_factory.mktemp("formats")
    sd = model.state_dict()
    paths = {}
    paths["plain"] = d / "plain.pt"
    torch.save(sd, paths["plain"])
    paths["dataparallel"] = d / "dp.pth"
    torch.save({f"module.{k}": v for k, v in sd.items()}, paths["dataparallel"])
    paths["lightning"] = d / "lightning.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 3, "global_step": 120},
               paths["lightning"])
    paths["training_state"] = d / "train.tar"
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.save({"model_state_dict": sd, "optimizer_state_dict": opt.state_dict(), "epoch": 7},
               paths["training_state"])
    paths["torchscript"] = d / "scripted.pt"
    torch.jit.script(model).save(str(paths["torchscript"]))
    paths["safetensors"] = d / "weights-epoch_2.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(paths["safetensors"]))
    paths["pickle"] = d / "full.pt"
    torch.save(model, paths["pickle"])
    return paths


def _plain_scores(model, data):
    from core.demo import DEMO_PREP
    from core.preprocessing import apply

    x = torch.from_numpy(np.stack([data.image(i) for i in range(len(data))])).float().div(255).unsqueeze(1)
    with torch.no_grad():
        return torch.softmax(model(apply(x, DEMO_PREP)), dim=1).numpy()


def test_every_format_gives_identical_scores(model, formats, tmp_path):
    data = load_digits_test()
    expected = _plain_scores(model, data)
    names = list(formats)
    sources = [CheckpointSource(str(formats[n]), trust=(n == "pickle")) for n in names]
    preds = evaluate(sources, data, cache=ArrayCache(tmp_path / "cache"))
    for name, p in zip(names, preds):
        np.testing.assert_allclose(p.scores, expected, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(p.guess, expected.argmax(1), err_msg=name)
    fmt = {n: p.meta["format"] for n, p in zip(names, preds)}
    assert fmt["lightning"] == "lightning" and fmt["torchscript"] == "torchscript"
    assert fmt["safetensors"] == "safetensors" and fmt["pickle"] == "pickled_module"
    epochs = {n: p.meta["epoch"] for n, p in zip(names, preds)}
    assert epochs["lightning"] == 3 and epochs["training_state"] == 7 and epochs["safetensors"] == 2


def test_full_pickle_refused_without_trust(formats):
    with pytest.raises(VersusError, match="full pickle.*trust"):
        load_checkpoint(formats["pickle"])
    assert load_checkpoint(formats["pickle"], trust=True).module is not None


class _Payload:
    """Pickles to a call that creates a marker file when unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_untrusted_payload_does_not_run(tmp_path):
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pt"
    torch.save({"weights": torch.zeros(2), "x": _Payload(marker)}, evil)
    with pytest.raises(VersusError, match="full pickle"):
        load_checkpoint(evil)
    assert not marker.exists()
    # the marker mechanism itself works: trusting the file does run it
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_random_bytes_never_escape_as_another_error(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(40):
        blob = tmp_path / f"blob{k}.pt"
        prefix = b"\x80\x02" if k % 2 else b""  # half of them start like a pickle
        blob.write_bytes(prefix + rng.bytes(int(rng.integers(16, 5000))))
        with pytest.raises(VersusError, match="cannot be read|not a readable"):
            load_checkpoint(blob)


def test_broken_files_give_one_clear_error(formats, tmp_path):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(formats["plain"].read_bytes()[:500])
    random_bin = tmp_path / "random.pt"
    random_bin.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    damaged_zip = tmp_path / "damaged_zip.pt"
    raw = bytearray(formats["plain"].read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    raw[central : central + 4] = b"XXXX"  # break the zip's central directory
    damaged_zip.write_bytes(bytes(raw))
    for path, pattern in ((truncated, "cannot be read|not a readable"), (damaged_zip, "cannot be read"), (random_bin, "cannot be read|not a readable"),
                          (empty, "empty"), (tmp_path / "missing.pt", "does not exist")):
        with pytest.raises(VersusError, match=pattern) as info:
            load_checkpoint(path)
        assert "\n" not in str(info.value)


def test_state_dict_for_wrong_architecture_names_the_keys(formats):
    data = load_digits_test()
    with pytest.raises(VersusError, match=r"does not fit resnet18: missing keys conv1\.weight"):
        evaluate([CheckpointSource(str(formats["plain"]), arch="resnet18")], data)
    with pytest.raises(VersusError, match="Could not detect the architecture .tried convnet, resnet18"):
        autodetect({"weird.weight": torch.zeros(3, 3)})


def test_integer_weights_for_a_float_model_are_refused_naming_file_and_keys(tmp_path):
    """load_state_dict would cast int8 weights to float without a word (nonsense scores); float16
    weights widen exactly and load, scoring as the float32 model does."""
    torch.manual_seed(0)
    model = ConvNet().eval()
    state = model.state_dict()
    torch.save({k: (v * 100).to(torch.int8) if k.endswith("weight") else v for k, v in state.items()},
               tmp_path / "int8.pt")
    with pytest.raises(VersusError) as info:
        evaluate([CheckpointSource(str(tmp_path / "int8.pt"))], load_digits_test(), probe=False)
    assert str(info.value).startswith(f"The checkpoint {tmp_path / 'int8.pt'} does not fit convnet: integer weights "
                                      "where the model holds floats layer1.0.weight (int8)")
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save(half, tmp_path / "half.pt")
    got = evaluate([CheckpointSource(str(tmp_path / "half.pt"))], load_digits_test(), probe=False)[0]
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    x, _ = digits_tensors(size=28, split="test")
    with torch.no_grad():
        np.testing.assert_allclose(got.scores, torch.softmax(model(x), 1).numpy(), atol=1e-5)


def test_epoch_names_and_natural_sort(tmp_path):
    assert epoch_from_name("epoch_12.pt") == 12
    assert epoch_from_name("model-ep3.ckpt") == 3
    assert epoch_from_name("run_epoch=7-step=100.ckpt") == 7
    assert epoch_from_name("state12.pt") is None
    for n in ("epoch_10.pt", "epoch_2.pt", "best.pt", "epoch_1.pt", "notes.txt"):
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / "epoch_3").mkdir()  # not a model: listed, so that loading it says so
    (tmp_path / "logs").mkdir()
    assert [p.name for p in list_models(tmp_path)] == ["epoch_1.pt", "epoch_2.pt", "epoch_3", "epoch_10.pt", "best.pt"]
    assert sorted(["b10", "b9", "a"], key=natural_key) == ["a", "b9", "b10"]
