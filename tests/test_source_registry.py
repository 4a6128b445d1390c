"""The registry of source kinds, offline-run specs, short names, and the one-sentence errors
of #13 for model inputs."""
import pytest
import torch

from core.architectures import ConvNet
from core.cli import main
from core.datasets import load_digits_test
from core.errors import VersusError
from core.prep_args import parse_floats, parse_size
from core.preprocessing import Preprocessing
from core.sources import KINDS, CheckpointSource, TableSource, evaluate, parse_source, short_names, url_fields
from tests.wandb_helpers import demo_offline_run


def test_short_names_distinguish_equal_file_names():
    assert short_names(["/x/run1/best.pt", "/x/run2/best.pt"]) == ["run1/best.pt", "run2/best.pt"]
    assert short_names(["/a/epoch_1.pt", "/a/epoch_5.pt"]) == ["epoch_1.pt", "epoch_5.pt"]
    assert short_names(["/a/m/best.pt", "/b/m/best.pt"]) == ["a/m/best.pt", "b/m/best.pt"]
    assert short_names(["/same.pt", "/same.pt"]) == ["same.pt", "same.pt"]


def test_registry_kinds_and_unrecognized_folder(tmp_path):
    assert [k.name for k in KINDS] == ["wandb", "offline", "table", "predictions", "huggingface", "onnx",
                                       "checkpoint"]
    assert "arch" in url_fields() and "wb_run" in url_fields()
    assert parse_source(str(tmp_path / "m.onnx")) == CheckpointSource(str(tmp_path / "m.onnx"))
    (tmp_path / "config.json").write_text("{}")  # config.json but no weights: not an HF folder
    with pytest.raises(VersusError, match="not a source versus can read; it tried .*Hugging Face.*ONNX"):
        parse_source(str(tmp_path))
    with pytest.raises(VersusError, match="longer than 255 bytes"):
        parse_source(str(tmp_path / ("x" * 300)) + ".pt")


def test_model_input_errors_are_sentences(tmp_path):
    with pytest.raises(VersusError, match="need 1 value for 1-channel input, not 3"):
        Preprocessing(channels=1, mean=(0.1, 0.2, 0.3), std=(1.0,))
    for bad in ("nan", "inf", "1e-320", "0.5,-inf"):
        with pytest.raises(VersusError, match="finite, ordinary number"):
            parse_floats(bad, "--mean")
    with pytest.raises(VersusError, match="larger than 4096 pixels a side.*VERSUS_MAX_SIZE"):
        parse_size("100000")
    for bad in ("0", "3x", "axb", "1x2x3"):
        with pytest.raises(VersusError, match="is not H or HxW"):
            parse_size(bad)


def test_bad_architecture_files_are_one_sentence(tmp_path):
    torch.save(ConvNet().state_dict(), tmp_path / "w.pt")
    (tmp_path / "arch.py").write_text("import sys\nclass NotModule:\n    pass\n")
    (tmp_path / "quit.py").write_text("import sys\nsys.exit(3)\n")
    data = load_digits_test()
    cases = [(f"{tmp_path}/arch.py:NotModule", "is not a torch.nn.Module"),
             (f"{tmp_path}/quit.py:Net", r"calls sys.exit\(3\)"),
             (f"{tmp_path}/arch.py:NotModule(1, 2)", "Cannot read the keyword arguments")]
    for arch, pattern in cases:
        with pytest.raises(VersusError, match=pattern):
            evaluate([CheckpointSource(str(tmp_path / "w.pt"), arch, trust=True)], data, probe=False)
    # without trust (a link or the app), a .py architecture is not imported
    with pytest.raises(VersusError, match="Python code that runs when imported"):
        evaluate([CheckpointSource(str(tmp_path / "w.pt"), f"{tmp_path}/quit.py:Net")], data, probe=False)


def test_cli_refuses_nan_flags(tmp_path, capsys):
    assert main(["compare", "--a", "x.pt", "--b", "y.pt", "--mean", "nan", "--std", "1",
                 "--out", str(tmp_path / "o")]) == 2
    assert "finite" in capsys.readouterr().err


def test_offline_run_key_and_version_on_the_command_line(demo_pair, tmp_path, capsys):
    run = demo_offline_run(demo_pair, tmp_path)
    assert parse_source(f"{run}:test_predictions:v0") == TableSource("offline", str(run), "test_predictions", "v0")
    log = next(run.glob("run-*.wandb"))
    assert parse_source(f"{log}:test_predictions") == TableSource("offline", str(log), "test_predictions", None)
    assert main(["compare", "--a", str(run), "--b", str(run), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "same offline run" in err and "test_predictions:v0, test_predictions:v1" in err
    assert main(["compare", "--a", f"{run}:test_predictions:v0", "--b", f"{log}:test_predictions:v1",
                 "--out", str(tmp_path / "o")]) == 0
    import json

    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["a"]["accuracy"] == pytest.approx(float(demo_pair[0].correct.mean()))
    assert s["b"]["accuracy"] == pytest.approx(float(demo_pair[1].correct.mean()))


def test_epoch_picker_lists_hf_folders_and_onnx(tmp_path):
    from core.checkpoints import list_models

    for n in (10, 2):
        hf = tmp_path / f"epoch_{n}"
        hf.mkdir()
        (hf / "config.json").write_text("{}")
        (hf / "model.safetensors").write_bytes(b"")
    (tmp_path / "epoch_3.onnx").write_bytes(b"")
    (tmp_path / "epoch_1.pt").write_bytes(b"")
    (tmp_path / "notes").mkdir()  # a folder that is no HF folder is not listed
    assert [p.name for p in list_models(tmp_path)] == ["epoch_1.pt", "epoch_2", "epoch_3.onnx", "epoch_10"]
