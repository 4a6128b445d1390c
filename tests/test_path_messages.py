"""A path that is not what a flag takes gets a sentence saying what it is (a folder, a file, a
device, a name with a run's :KEY tail), not "does not exist"; model messages name their file."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from core.cli import main
from tests.wandb_helpers import skill_series_run, wandb_env  # noqa: F401 (fixture)


def _err(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err[len("error: "):].strip()


@pytest.fixture
def table(tmp_path):
    frame = pd.DataFrame({"id": ["x0", "x1"], "truth": [0, 1], "score_0": [0.9, 0.2], "score_1": [0.1, 0.8]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    return tmp_path / "a.csv"


def test_what_a_model_path_is_when_it_is_not_a_model(table, tmp_path, capsys):
    out = ["--out", str(tmp_path / "o")]
    assert _err(["compare", "--a", f"{table}:", "--b", str(table), *out], capsys) == (
        f"{table}: does not exist: {table} does, but only a W&B offline run folder takes :KEY[:VERSION] "
        "after its name.")
    assert _err(["compare", "--a", "/dev/zero", "--b", str(table), *out], capsys).startswith(
        "/dev/zero is not a regular file (a device or a pipe)")
    torch.save({}, tmp_path / "empty.pt")
    assert _err(["compare", "--a", str(tmp_path / "empty.pt"), "--b", str(table), *out], capsys) == (
        f"The checkpoint {tmp_path / 'empty.pt'} holds no model weights (no state_dict or model_state_dict inside).")


def test_what_a_series_folder_is_when_it_is_not_one(table, tmp_path, capsys):
    out = ["--out", str(tmp_path / "o")]
    assert _err(["series", "--folder", str(table), *out], capsys) == (
        f"{table} is a file, not a folder of checkpoints (--models takes files).")
    for name in ("epoch_1.pt", "epoch_2.pt"):
        (tmp_path / name).write_bytes(b"not a checkpoint")
    assert _err(["series", "--models", str(tmp_path / "epoch_1.pt"), str(tmp_path / "epoch_2.pt"), "--skip-bad",
                 *out], capsys) == "Fewer than two usable checkpoints are left in the series (2 checkpoints)."


def test_a_series_of_one_table_version_says_to_drop_the_version(wandb_env, tmp_path, capsys):
    folder, _, _ = skill_series_run(tmp_path, 0, 20, 3, (0.5, 2.0))
    assert _err(["series", "--folder", f"{folder}:test_predictions:v1", "--out", str(tmp_path / "o")], capsys) == (
        f"--folder {folder}:test_predictions:v1 names a table version (v1); a series takes every version of a "
        f"key: --folder {folder}:test_predictions.")
