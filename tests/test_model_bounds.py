"""Every model kind is bounded before it can exhaust memory: torch zip archives by the bytes
their tensor records hold once read (before torch reads them), loaded modules by their
declared parameter shapes, and every model by its output width on one example before it runs
a full batch (issue #13)."""
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from core.architectures import ConvNet
from core.checkpoints import load_checkpoint
from core.datasets import load_digits_test
from core.errors import VersusError
from core.hf_models import load_hf
from core.inference.runner import run_models
from core.preprocessing import Preprocessing, apply, batch_to_tensor
from core.sources import evaluate, parse_source

PREP = Preprocessing(size=(28, 28), channels=1)


def _deflate(path):
    """Rewrite a torch zip with every record deflated (torch still reads it), as a zip bomb is."""
    with zipfile.ZipFile(path) as src:
        records = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, blob in records:
            dst.writestr(name, blob)
    return path


def _forbid_loading(monkeypatch):
    """Any torch read of the file fails the test: the bound must come first."""
    def boom(*_a, **_k):
        raise AssertionError("torch read the file before the bound refused it")
    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr(torch.jit, "load", boom)


class Wide(nn.Module):
    """A classifier on 1x28x28 images with `classes` outputs."""

    def __init__(self, classes: int):
        super().__init__()
        self.fc = nn.Linear(28 * 28, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class Expanded(nn.Module):
    """A module whose buffer declares `n` values on one stored value (stride 0)."""

    def __init__(self, n: int):
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)
        self.register_buffer("table", torch.zeros(1).expand(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def _script(module, path):
    torch.jit.save(torch.jit.script(module), path)
    return path


def _weights_only(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"fc.weight": torch.zeros(10, 200), "fc.bias": torch.zeros(10)}, path)  # 8,040 bytes
    return _deflate(path)


def _torchscript(tmp_path):
    return _deflate(_script(Wide(3), tmp_path / "ts.pt"))  # 2,355 values: 9,420 bytes


def _pickled(tmp_path):
    path = tmp_path / "full.pt"
    torch.save(Wide(3), path)
    return _deflate(path)


@pytest.mark.parametrize("make, trust", [(_weights_only, False), (_torchscript, False), (_pickled, True)])
def test_deflated_archive_over_the_bound_refused_before_torch_reads_it(tmp_path, monkeypatch, make, trust):
    path = make(tmp_path)
    assert load_checkpoint(path, trust=trust) is not None  # torch reads the deflated file: a real risk
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "1000")  # 4,000 bytes
    _forbid_loading(monkeypatch)
    with pytest.raises(VersusError, match=r"kB of tensor data once read, more than the limit of 1,000 "
                                          r"parameter values at 4 bytes each.*VERSUS_MAX_PARAMS") as info:
        load_checkpoint(path, trust=trust)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_zip_bomb_record_refused_under_the_default_bound(tmp_path, monkeypatch):
    path = tmp_path / "bomb.pt"
    torch.save({"fc.weight": torch.zeros(10, 50_000)}, path)  # 2 MB of zeros: ~2 kB deflated
    _deflate(path)
    assert path.stat().st_size < 20_000
    _forbid_loading(monkeypatch)
    with pytest.raises(VersusError, match=r"compressed [\d,]+ times .*2\.0 MB once read.*zip bomb"):
        load_checkpoint(path)


def test_stored_archive_within_the_bound_still_loads(tmp_path, monkeypatch):
    path = tmp_path / "w.pt"
    torch.save({"fc.weight": torch.ones(10, 20), "fc.bias": torch.ones(10)}, path)  # 840 bytes, stored
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "210")
    assert load_checkpoint(path).state_dict["fc.weight"].sum() == 200
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "209")
    with pytest.raises(VersusError, match="VERSUS_MAX_PARAMS"):
        load_checkpoint(path)


def test_hf_pytorch_model_bin_refused_before_transformers_reads_it(tmp_path, monkeypatch):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "resnet", "num_labels": 10}))
    torch.save({"classifier.weight": torch.zeros(10, 200)}, folder / "pytorch_model.bin")
    _deflate(folder / "pytorch_model.bin")
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "1000")
    _forbid_loading(monkeypatch)
    import transformers
    monkeypatch.setattr(transformers.AutoModelForImageClassification, "from_pretrained", torch.load)
    with pytest.raises(VersusError, match=r"The weights .*pytorch_model\.bin holds 8\.0 kB.*VERSUS_MAX_PARAMS"):
        load_hf(folder)


@pytest.mark.parametrize("trust", [False, True])
def test_stride0_parameter_of_a_loaded_module_refused(tmp_path, trust):
    module = Expanded(3 * 10**9)  # 12 GB once copied, one value stored
    path = tmp_path / "m.pt"
    if trust:
        torch.save(module, path)
    else:
        _script(module, path)
    assert path.stat().st_size < 50_000
    start = time.perf_counter()
    with pytest.raises(VersusError, match=r"more than 2,000,000,000 parameter values.*VERSUS_MAX_PARAMS"):
        load_checkpoint(path, trust=trust)
    assert time.perf_counter() - start < 5


class Spy(nn.Module):
    """Records the batch size of every call of the model it wraps."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.shape[0])
        return self.inner(x)


def test_too_wide_output_refused_on_one_row_before_a_full_batch(tmp_path, monkeypatch):
    spy = Spy(torch.jit.load(str(_script(Wide(50), tmp_path / "wide.pt"))))
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "20")
    with pytest.raises(VersusError, match=r"^wide\.pt returns scores for 50 classes, more than the limit of "
                                          r"20;.*VERSUS_MAX_CLASSES\.$"):
        run_models([spy], [PREP], load_digits_test(), torch.device("cpu"), 64, names=["wide.pt"])
    assert spy.calls == [1]


def test_one_row_probe_leaves_scores_and_features_unchanged():
    torch.manual_seed(0)
    model = ConvNet().eval()
    spy = Spy(model)
    data = load_digits_test()
    out = run_models([spy], [PREP], data, torch.device("cpu"), 64, keep_features=True, workers=0)[0]
    n = len(data)
    assert spy.calls == [1] + [64] * (n // 64) + [n % 64]
    with torch.no_grad():  # the model on the whole set at once, no probe
        expected = torch.softmax(model(apply(batch_to_tensor(data.array), PREP)), 1).numpy()
    np.testing.assert_allclose(out.scores, expected, atol=1e-5)
    assert out.features.shape[0] == n


def test_onnx_with_a_dynamic_output_width_is_probed(tmp_path, monkeypatch):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["y"], axis=1)], "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "classes"])])
    path = tmp_path / "flat.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "100")
    with pytest.raises(VersusError, match=r"returns scores for 784 classes, more than the limit of 100"):
        evaluate([parse_source(str(path))], load_digits_test(), probe=False)


def test_cli_refuses_a_too_wide_model_in_one_line(tmp_path):
    torch.manual_seed(0)
    a = tmp_path / "a.pt"
    torch.save(ConvNet().state_dict(), a)
    b = _script(Wide(50), tmp_path / "wide.pt")
    r = subprocess.run([sys.executable, "-m", "core", "compare", "--a", str(a), "--b", str(b), "--data", "digits",
                        "--size", "28", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "VERSUS_MAX_CLASSES": "20"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "returns scores for 50 classes" in lines[0]
    assert "VERSUS_MAX_CLASSES" in lines[0] and "wide.pt" in lines[0]


def test_ray_engine_probes_on_the_driver_before_starting_actors(tmp_path, monkeypatch):
    from core.inference import ray_engine

    spy = Spy(Wide(50))
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "20")
    monkeypatch.setattr(ray_engine, "connect", lambda _a: pytest.fail("Ray started for a model too wide"))
    with pytest.raises(VersusError, match=r"^wide returns scores for 50 classes"):
        ray_engine.run_models_ray([spy], [PREP], load_digits_test(), torch.device("cpu"), 64, names=["wide"])
    assert spy.calls == [1]


class OddOnOneRow(nn.Module):
    """Fails on a single row (or returns it as a column), fine on a batch."""

    def __init__(self, inner: nn.Module, column: bool):
        super().__init__()
        self.inner, self.column = inner, column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] == 1:
            if not self.column:
                raise RuntimeError("needs a batch")
            return self.inner(x).reshape(-1, 1)
        return self.inner(x)


def test_probe_counts_values_whatever_the_shape_and_leaves_failures_to_the_full_batch(monkeypatch):
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "20")
    data = load_digits_test()
    with pytest.raises(VersusError, match=r"^column returns scores for 50 classes"):
        run_models([OddOnOneRow(Wide(50), True)], [PREP], data, torch.device("cpu"), 64, names=["column"])
    torch.manual_seed(0)
    model = ConvNet().eval()
    out = run_models([OddOnOneRow(model, False)], [PREP], data, torch.device("cpu"), 64)[0]
    with torch.no_grad():
        expected = torch.softmax(model(apply(batch_to_tensor(data.array), PREP)), 1).numpy()
    np.testing.assert_allclose(out.scores, expected, atol=1e-5)


def test_hf_config_declaring_a_huge_model_refused_before_it_is_built(tmp_path, monkeypatch):
    """A config.json whose sizes declare far more parameters than the weights hold (transformers
    would initialize the rest) is refused from the meta-device count, before from_pretrained."""
    from transformers import ResNetConfig, ResNetForImageClassification

    folder = tmp_path / "hf"
    config = ResNetConfig(num_channels=1, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                          layer_type="basic", num_labels=10)
    ResNetForImageClassification(config).save_pretrained(folder)
    stored = sum(v.numel() for v in ResNetForImageClassification(config).state_dict().values())
    monkeypatch.setenv("VERSUS_MAX_PARAMS", str(stored))
    assert load_hf(folder)[0] is not None  # at the bound: loads
    cfg = json.loads((folder / "config.json").read_text())
    cfg["hidden_sizes"] = [8, 4096]  # the weights file is unchanged
    (folder / "config.json").write_text(json.dumps(cfg))
    import transformers
    monkeypatch.setattr(transformers.AutoModelForImageClassification, "from_pretrained",
                        lambda *a, **k: pytest.fail("from_pretrained ran"))
    with pytest.raises(VersusError, match=r"Hugging Face folder .*VERSUS_MAX_PARAMS"):
        load_hf(folder)
