"""Crafted checkpoints that declare huge models are refused from their shapes, before any
model is built; the messages say how to raise the bound. Plus the checkpoint messages of #13."""
import time

import pytest
import torch
from safetensors.torch import save_file

from core.checkpoints import load_checkpoint
from core.errors import VersusError


def _expanded(tmp_path, classes: int, features: int):
    """A file of a few kB declaring a classes x features classifier (stride-0 storage)."""
    path = tmp_path / f"huge_{classes}.pt"
    torch.save({"fc.weight": torch.zeros(1).expand(classes, features),
                "fc.bias": torch.zeros(1).expand(classes)}, path)
    assert path.stat().st_size < 10_000
    return path


def test_huge_declared_storage_refused_fast(tmp_path):
    path = _expanded(tmp_path, 10**7, 512)  # 5e9 values: 20 GB if it were built
    start = time.perf_counter()
    with pytest.raises(VersusError, match="VERSUS_MAX_PARAMS") as info:
        load_checkpoint(path)
    assert time.perf_counter() - start < 2
    assert "\n" not in str(info.value)


def test_class_count_bound_and_raising_it(tmp_path, monkeypatch):
    path = _expanded(tmp_path, 10**6, 2)
    with pytest.raises(VersusError, match=r"1,000,000 classes.*VERSUS_MAX_CLASSES"):
        load_checkpoint(path)
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "2000000")
    assert load_checkpoint(path).state_dict["fc.weight"].shape == (10**6, 2)
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "1000")
    with pytest.raises(VersusError, match="more than 1,000 parameter values"):
        load_checkpoint(path)
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "lots")
    with pytest.raises(VersusError, match="not a whole number"):
        load_checkpoint(path)


def test_safetensors_shapes_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save_file({"fc.weight": torch.zeros(50, 40), "fc.bias": torch.zeros(50)}, str(path))
    monkeypatch.setenv("VERSUS_MAX_PARAMS", "1000")
    with pytest.raises(VersusError, match="VERSUS_MAX_PARAMS"):
        load_checkpoint(path)
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "10")
    monkeypatch.delenv("VERSUS_MAX_PARAMS")
    with pytest.raises(VersusError, match="50 classes"):
        load_checkpoint(path)


def test_empty_safetensors_says_empty(tmp_path):
    path = tmp_path / "empty.safetensors"
    save_file({}, str(path))
    with pytest.raises(VersusError, match="is empty"):
        load_checkpoint(path)


class _Evil:
    def __reduce__(self):
        return (print, ("hi",))


class _Shell:
    def __reduce__(self):
        import os
        return (os.system, ("true",))


@pytest.mark.parametrize("payload, name", [(_Evil(), r"(builtins\.)?print"), (_Shell(), r"(posix|os)\.system")])
def test_unsafe_pickle_named_with_its_global(tmp_path, payload, name):
    """torch words a blocked module's global differently from a plain one; both are named."""
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(1), "x": payload}, path)
    with pytest.raises(VersusError, match=rf"unsafe pickle.*blocked global {name}\)"):
        load_checkpoint(path)


def test_safetensors_under_another_suffix_is_read_as_safetensors(tmp_path):
    weights = {"fc.weight": torch.arange(6.0).reshape(2, 3), "fc.bias": torch.ones(2)}
    save_file(weights, str(tmp_path / "w.pt"))
    loaded = load_checkpoint(tmp_path / "w.pt").state_dict
    assert all(torch.equal(loaded[k], v) for k, v in weights.items())


@pytest.mark.parametrize("data, says", [(b"\x80\x02\xc0junk", "Unsupported operand 192."),
                                        (b"\x80\x02}q\x00.", "Invalid magic number; corrupt file.")])
def test_torch_boilerplate_gives_way_to_the_cause(tmp_path, data, says):
    path = tmp_path / "odd.pt"
    path.write_bytes(data)
    with pytest.raises(VersusError) as info:
        load_checkpoint(path)
    assert str(info.value) == f"The checkpoint {path} cannot be read (truncated or not a PyTorch file): {says}"


def test_truncated_message_not_cut_mid_word(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"fc.weight": torch.zeros(10, 300)}, good)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(good.read_bytes()[:700])
    with pytest.raises(VersusError) as info:
        load_checkpoint(bad)
    msg = str(info.value)
    assert msg.endswith(".") and "\n" not in msg
    assert "cannot be read" in msg


@pytest.mark.parametrize("env", ["VERSUS_MAX_CLASSES", "VERSUS_MAX_PARAMS", "VERSUS_MAX_SIZE",
                                 "VERSUS_MAX_FEATURE_BYTES"])
@pytest.mark.parametrize("value, says", [("1e999", "is not a whole number"), ("1.5", "is not a whole number"),
                                         ("abc", "is not a whole number"), ("0", "must be at least 1")])
def test_junk_bound_in_the_environment_is_one_line_before_anything_runs(env, value, says, tmp_path, monkeypatch,
                                                                        capsys):
    from core.cli import main

    monkeypatch.setenv(env, value)
    # the files do not exist: the environment is checked before any input is looked at
    code = main(["compare", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"),
                 "--out", str(tmp_path / "out")])
    assert code == 2 and capsys.readouterr().err == f"error: {env}={value!r} {says}.\n"
    monkeypatch.setenv(env, "1e3")
    from core.limits import bound
    assert bound(env, 7) == 1000
