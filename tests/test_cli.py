"""python -m core compare end to end: digits demo and a written ImageFolder, checked against
scikit-learn; bad input exits 2 with one line on stderr."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm

from core.architectures import ConvNet
from core.cli import build_parser, main
from core.datasets import digits_split
from tests.helpers import write_imagefolder


def _check_summary_against_sklearn(out, classes):
    summary = json.loads((out / "summary.json").read_text())
    frame = pd.read_parquet(out / "predictions.parquet")
    truth = frame["truth"].to_numpy()
    labels = list(range(len(classes)))
    assert summary["n"] == len(frame) and summary["classes"] == classes
    for side in ("a", "b"):
        guess = frame[f"guess_{side}"].to_numpy()
        scores = frame[[f"score_{side}_{c}" for c in classes]].to_numpy()
        np.testing.assert_array_equal(scores.argmax(1), guess)
        s = summary[side]
        assert s["accuracy"] == pytest.approx(skm.accuracy_score(truth, guess))
        assert s["macro_f1"] == pytest.approx(skm.f1_score(truth, guess, average="macro", labels=labels, zero_division=0))
        assert s["micro_f1"] == pytest.approx(skm.f1_score(truth, guess, average="micro", labels=labels, zero_division=0))
        assert s["macro_precision"] == pytest.approx(skm.precision_score(truth, guess, average="macro", labels=labels, zero_division=0))
        assert s["macro_recall"] == pytest.approx(skm.recall_score(truth, guess, average="macro", labels=labels, zero_division=0))
        assert s["confusion"] == skm.confusion_matrix(truth, guess, labels=labels).tolist()
        assert s["errors"] == int((guess != truth).sum())
        f1 = skm.f1_score(truth, guess, average=None, labels=labels, zero_division=0)
        assert [r["f1"] for r in s["per_class"]] == pytest.approx(f1.tolist())
        assert [r["support"] for r in s["per_class"]] == np.bincount(truth, minlength=len(classes)).tolist()
        assert s["brier"] == pytest.approx(skm.brier_score_loss(truth, scores, labels=labels, scale_by_half=False), rel=1e-5)
        wrong = guess != truth
        assert summary["errors_by_guess"][side] == {c: int((guess[wrong] == k).sum()) for k, c in enumerate(classes)}
    ra = frame["guess_a"].to_numpy() == truth
    rb = frame["guess_b"].to_numpy() == truth
    assert summary["fixed"] == int((~ra & rb).sum()) and summary["regressed"] == int((ra & ~rb).sum())
    assert summary["disagree"] == int((frame["guess_a"] != frame["guess_b"]).sum())
    assert summary["both_wrong"] == int((~ra & ~rb).sum())
    d = summary["delta"]["accuracy"]
    assert d["value"] == pytest.approx(summary["b"]["accuracy"] - summary["a"]["accuracy"])
    assert d["ci95"][0] <= d["value"] <= d["ci95"][1]
    assert 0 <= summary["mcnemar"]["p_value"] <= 1
    return summary


def test_cli_on_digits_demo(demo_paths, tmp_path):
    out = tmp_path / "out"
    assert main(["compare", "--a", str(demo_paths[0]), "--b", str(demo_paths[-1]), "--data", "digits",
                 "--out", str(out)]) == 0
    summary = _check_summary_against_sklearn(out, [str(k) for k in range(10)])
    assert summary["n"] == 540 and summary["b"]["accuracy"] > summary["a"]["accuracy"]
    prep = summary["preprocessing"]["a"]
    assert {k: prep[k] for k in ("size", "channels", "mean", "std")} == \
        {"size": [28, 28], "channels": 1, "mean": None, "std": None}
    assert prep["from"]["normalization"].startswith("artifact")  # the demo records its preprocessing
    assert summary["warnings"] == []
    assert (out / "report.html").is_file()


def test_cli_on_written_imagefolder_with_torchscript_and_arch(tmp_path):
    s = digits_split()
    te = s["test_idx"][:60]
    classes = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    folder = tmp_path / "images"
    write_imagefolder(folder, s["images"][te], s["target"][te], classes)
    torch.manual_seed(0)
    a = ConvNet()
    torch.save(a.state_dict(), tmp_path / "a.pt")
    torch.jit.script(ConvNet()).save(str(tmp_path / "b.pt"))
    out = tmp_path / "out"
    code = main(["compare", "--a", str(tmp_path / "a.pt"), "--b", str(tmp_path / "b.pt"), "--arch-a", "convnet",
                 "--data", f"imagefolder:{folder}", "--size", "28", "--out", str(out), "--device", "cpu",
                 "--batch-size", "16"])
    assert code == 0
    summary = _check_summary_against_sklearn(out, sorted(classes))
    assert summary["n"] == 60


@pytest.mark.parametrize("args,pattern", [
    (["--a", "missing.pt"], "does not exist"),
    (["--data", "imagefolder:/nonexistent"], "does not exist"),
    (["--data", "mnist:{tmp}/mnist"], "t10k-images-idx3-ubyte"),
    (["--data", "mnist:{tmp}"], "which versus reads from"),  # --out would land in the data folder
    (["--arch", "resnet999"], "Unknown architecture"),
    (["--data", "digits:extra", "--a", "{tmp}/missing.csv"], "digits takes no path"),  # before any input is read
    (["--size", "0x3"], "Size"),
    (["--device", "cuda"], "cuda|CUDA"),
    (["--out", "/proc/versus-out"], "Cannot write the results into /proc/versus-out"),
])
def test_cli_bad_input_exit_2_one_line(demo_paths, tmp_path, capsys, args, pattern):
    if "--device" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    base = {"--a": str(demo_paths[0]), "--b": str(demo_paths[1]), "--data": "digits", "--out": str(tmp_path / "o")}
    (tmp_path / "mnist").mkdir()
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v.format(tmp=tmp_path)
    argv = ["compare"] + [x for kv in base.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert __import__("re").search(pattern, err)


@pytest.mark.parametrize("argv,said", [
    (["compare", "--a", "x.pt", "--a", "y.pt", "--b", "z.pt", "--out", "o"], "--a was given twice (x.pt and y.pt)"),
    (["compare", "--a=x.pt", "--b", "z.pt", "--out", "o", "--size", "28", "--size", "32"],
     "--size was given twice (28 and 32)"),
    (["series", "--models", "a.pt", "b.pt", "--out", "o", "--models", "c.pt"],
     "--models was given twice (a.pt b.pt and c.pt)"),
])
def test_a_value_flag_given_twice_is_refused_not_the_last_taken(argv, said, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {said}; give it once (see python -m core ") and "\n" not in err


def test_flags_given_once_parse_to_their_values():
    args = build_parser().parse_args(["compare", "--a", "x", "--b", "y", "--out", "o", "--size", "28", "--intersect"])
    assert (args.a, args.b, args.out, args.size, args.intersect) == ("x", "y", "o", "28", True)
    assert "_given" not in vars(args)


def test_cli_process_untrusted_pickle_exit_2(tmp_path):
    torch.save(ConvNet(), tmp_path / "full.pt")
    proc = subprocess.run([sys.executable, "-m", "core", "compare", "--a", str(tmp_path / "full.pt"),
                           "--b", str(tmp_path / "full.pt"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "full pickle" in lines[0] and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "core", "compare", "--b", "x"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--a" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_cli_model_with_other_class_count_is_one_line(demo_paths, tmp_path, capsys):
    torch.save(ConvNet(classes=3).state_dict(), tmp_path / "three.pt")
    assert main(["compare", "--a", str(demo_paths[0]), "--b", str(tmp_path / "three.pt"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "outputs 3 classes but the data has 10" in err


def test_model_flags_on_two_prediction_files_are_said_to_be_unused(tmp_path, capsys):
    import pandas as pd

    frame = pd.DataFrame({"id": ["x0", "x1"], "truth": [0, 1], "score_0": [0.9, 0.2], "score_1": [0.1, 0.8]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    code = main(["compare", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "a.csv"), "--size", "28",
                 "--arch", "resnet18", "--out", str(tmp_path / "o")])
    assert code == 0
    assert capsys.readouterr().err.splitlines()[0] == ("note: --arch, --size apply to models run here; A and B are "
                                                       "logged predictions, so they were not used.")
