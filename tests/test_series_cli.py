"""python -m core series on real Lightning-shaped checkpoints and on an offline W&B run with
three versions of one table; metrics against scikit-learn and a hand ECE; bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from core.cli import main
from core.datasets import load_digits_test
from core.series_source import list_series
from core.sources import CheckpointSource, evaluate
from tests.series_helpers import lightning_folder
from tests.wandb_helpers import skill_series_run, wandb_env  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def ckpt_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lightning") / "checkpoints"
    lightning_folder(folder)
    return folder


def hand_ece(truth: np.ndarray, scores: np.ndarray, bins: int = 15) -> float:
    """ECE worked out bin by bin: (lo, hi] bins, the first also holds 0."""
    conf, guess = scores.max(axis=1), scores.argmax(axis=1)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.sum() * abs((guess[inside] == truth[inside]).mean() - conf[inside].mean())
    return total / len(truth)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_folder_of_lightning_checkpoints(ckpt_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(["series", "--folder", str(ckpt_folder), "--out", str(out)], capsys)
    assert code == 0, err
    summary = json.loads((out / "series.json").read_text())
    assert [c["epoch"] for c in summary["checkpoints"]] == [0, 1, 2, 3]
    assert [c["step"] for c in summary["checkpoints"]] == [5, 10, 15, 20]
    data = load_digits_test()
    frame = pd.read_parquet(out / "series.parquet")
    assert frame["id"].tolist() == list(data.ids) and frame["truth"].tolist() == data.truth.tolist()
    correct = []
    for t, path in enumerate(sorted(ckpt_folder.iterdir(), key=lambda p: int(p.name.split("=")[1].split("-")[0]))):
        scores = evaluate([CheckpointSource(str(path))], data)[0].scores  # each on its own
        guess = scores.argmax(axis=1)
        ck = summary["checkpoints"][t]
        assert ck["source"] == path.name
        assert ck["accuracy"] == pytest.approx(accuracy_score(data.truth, guess))
        assert ck["macro_f1"] == pytest.approx(f1_score(data.truth, guess, average="macro", labels=range(10),
                                                        zero_division=0))
        assert ck["errors"] == int((guess != data.truth).sum())
        assert ck["ece"] == pytest.approx(hand_ece(data.truth, scores), abs=1e-6)
        assert frame[f"guess_{t}"].tolist() == guess.tolist()
        correct.append(guess == data.truth)
    correct = np.array(correct)
    forgettings = (correct[:-1] & ~correct[1:]).sum(axis=0)
    assert frame["forgettings"].tolist() == forgettings.tolist()
    assert summary["forgetting_events"] == int(forgettings.sum())
    assert summary["never_right"] == int((~correct.any(axis=0)).sum())
    assert summary["always_right"] == int(correct.all(axis=0).sum())
    assert sum(summary["learned_at"].values()) == int(correct[-1].sum())
    html = (out / "report.html").read_text()
    assert "vegaEmbed" in html and "epoch=3-step=20.ckpt" in html and "http" not in html.split("<script>")[0]


def test_explicit_list_keeps_the_given_order(ckpt_folder, tmp_path, capsys):
    files = sorted(ckpt_folder.iterdir())
    order = [files[3], files[0]]
    code, _, err = run(["series", "--models", *map(str, order), "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "series.json").read_text())
    assert [c["epoch"] for c in summary["checkpoints"]] == [3, 0]


def test_natural_epoch_order_of_names(tmp_path):
    for name in ("epoch_10.pt", "epoch_2.pt", "epoch_1.pt", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "epoch_3").mkdir()  # a save_pretrained folder per epoch
    assert [p.name for p in list_series(tmp_path)] == ["epoch_1.pt", "epoch_2.pt", "epoch_3", "epoch_10.pt"]


def _copy(ckpt_folder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "ck"
    shutil.copytree(ckpt_folder, folder)
    return folder


def one_error(code: int, err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_empty_folder_is_one_sentence(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    line = one_error(*run(["series", "--folder", str(tmp_path / "empty"), "--out", str(tmp_path / "o")], capsys)[::2])
    assert "holds no checkpoints" in line and not (tmp_path / "o").exists()


def test_unreadable_checkpoint_named_then_skipped(ckpt_folder, tmp_path, capsys):
    folder = _copy(ckpt_folder, tmp_path)
    (folder / "epoch=2-step=15.ckpt").write_bytes(b"not a checkpoint at all")
    args = ["series", "--folder", str(folder), "--out", str(tmp_path / "o")]
    line = one_error(*run(args, capsys)[::2])
    assert "epoch=2-step=15.ckpt" in line
    code, _, err = run(args + ["--skip-bad"], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "series.json").read_text())
    assert [c["epoch"] for c in summary["checkpoints"]] == [0, 1, 3]
    assert any("epoch=2-step=15.ckpt" in w for w in summary["warnings"])
    assert "warning: Skipped from the series" in err and "epoch=2-step=15.ckpt" in err


def test_other_class_count_is_named(ckpt_folder, tmp_path, capsys):
    folder = _copy(ckpt_folder, tmp_path)
    lightning_folder(tmp_path / "five", epochs=1, classes=5)
    (tmp_path / "five" / "epoch=0-step=5.ckpt").rename(folder / "epoch=4-step=25.ckpt")
    line = one_error(*run(["series", "--folder", str(folder), "--out", str(tmp_path / "o")], capsys)[::2])
    assert "epoch=4-step=25.ckpt" in line and "different architecture or class count" in line


def test_repeated_and_missing_epochs(ckpt_folder, tmp_path, capsys):
    folder = _copy(ckpt_folder, tmp_path)
    shutil.copy(folder / "epoch=1-step=10.ckpt", folder / "epoch=1-step=10-v1.ckpt")
    line = one_error(*run(["series", "--folder", str(folder), "--out", str(tmp_path / "o")], capsys)[::2])
    assert "repeats epoch 1" in line and "epoch=1-step=10" in line
    (folder / "epoch=1-step=10-v1.ckpt").unlink()
    (folder / "epoch=1-step=10.ckpt").unlink()
    line = one_error(*run(["series", "--folder", str(folder), "--out", str(tmp_path / "o")], capsys)[::2])
    assert "gap" in line and "epoch=2-step=15.ckpt" in line and "follows epoch 0" in line


def test_offline_run_with_three_table_versions(wandb_env, tmp_path, capsys):
    c = 4
    folder, truth, all_scores = skill_series_run(tmp_path, 0, 60, c, (0.5, 1.5, 3.0))
    out = tmp_path / "o"
    code, _, err = run(["series", "--folder", f"{folder}:test_predictions", "--out", str(out)], capsys)
    assert code == 0, err
    summary = json.loads((out / "series.json").read_text())
    assert [ck["epoch"] for ck in summary["checkpoints"]] == [1, 2, 3]
    assert [ck["source"] for ck in summary["checkpoints"]] == [f"test_predictions:v{k}" for k in range(3)]
    for ck, s in zip(summary["checkpoints"], all_scores):
        assert ck["accuracy"] == pytest.approx(accuracy_score(truth, s.argmax(axis=1)))
        assert ck["macro_f1"] == pytest.approx(f1_score(truth, s.argmax(axis=1), average="macro",
                                                        labels=range(c), zero_division=0))
        assert ck["ece"] == pytest.approx(hand_ece(truth, s), abs=1e-5)


def test_lightning_last_ckpt_is_left_out_and_said(ckpt_folder, tmp_path, capsys):
    folder = _copy(ckpt_folder, tmp_path)
    shutil.copy(folder / "epoch=3-step=20.ckpt", folder / "last.ckpt")
    code, _, err = run(["series", "--folder", str(folder), "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "series.json").read_text())
    assert [c["source"] for c in summary["checkpoints"]][-1] == "epoch=3-step=20.ckpt"
    assert len(summary["checkpoints"]) == 4 and "last.ckpt repeats epoch 3" in err
