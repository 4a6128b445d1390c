"""Offline runs: the run-<id>.wandb log of a real `wandb.init(mode="offline")` run."""
from __future__ import annotations

import shutil
import struct
import zlib

import numpy as np
import pytest

from core.errors import VersusError
from core.offline_run import (_link_steps, find_log, load_offline_table, numeric_keys, offline_history, read_log,
                              read_offline_run, table_versions)
from core.sources import TableSource, load_table_source, parse_source
from wandb_helpers import demo_offline_run, offline_env, offline_run, quickstart_table


@pytest.fixture(scope="module")
def run_folder(demo_pair, tmp_path_factory):
    """An offline run that logged the demo's epoch-1 table at epoch 1 and epoch-5 table at epoch 5."""
    return demo_offline_run(demo_pair, tmp_path_factory.mktemp("offline"), config={"lr": 0.01, "batch_size": 32})


def test_reads_run_config_history_and_table_versions(run_folder):
    run = read_offline_run(run_folder)
    assert run_folder.name.endswith(run.run_id) and run.project == "versus-test"
    assert run.config == {"lr": 0.01, "batch_size": 32}
    # Epochs 1..5 log loss/acc/epoch (one step each); the tables are logged right after epochs 1 and 5.
    loss = offline_history(run, ["loss"])
    assert loss["value"].tolist() == pytest.approx([1.0 / e for e in range(1, 6)])
    assert loss["step"].tolist() == [0, 2, 3, 4, 5]
    assert table_versions(run) == [("test_predictions", "v0", 1), ("test_predictions", "v1", 6)]
    assert numeric_keys(run) == ["acc", "epoch", "loss"]


def test_tables_load_from_staged_files_with_their_images(run_folder, demo_pair):
    for version, p in zip(("v0", "v1"), demo_pair):
        t = load_offline_table(run_folder, "test_predictions", version)
        assert list(t.ids) == list(p.ids)
        np.testing.assert_array_equal(t.scores, p.scores)
        np.testing.assert_array_equal(t.truth, p.truth)
        np.testing.assert_array_equal(t.samples.image(3), p.samples.image(3))
        assert t.meta["step"] == (1 if version == "v0" else 6)
    latest = load_table_source(parse_source(str(run_folder)))
    np.testing.assert_array_equal(latest.scores, demo_pair[1].scores)


def test_unknown_key_or_version_is_named(run_folder):
    with pytest.raises(VersusError, match="no table 'preds' .it has test_predictions"):
        load_offline_table(run_folder, "preds")
    with pytest.raises(VersusError, match="has no version v7 .it has v0, v1"):
        load_offline_table(run_folder, "test_predictions", "v7")


def test_gone_staged_files_are_said_exactly(run_folder, tmp_path):
    run = read_offline_run(run_folder)
    art = run.tables[0]
    staged = art.files["test_predictions.table.json"]
    keep = tmp_path / "keep"
    shutil.copyfile(staged, keep)
    import os

    os.chmod(staged, 0o600)
    os.remove(staged)
    try:
        with pytest.raises(VersusError, match=r"staged files of table 'test_predictions' v0, step 1 "
                                              r"of offline run .* are gone: .* no longer exists"):
            load_table_source(TableSource("offline", str(run_folder), "test_predictions", "v0"))
    finally:
        shutil.copyfile(keep, staged)


def _log_bytes(records: list[bytes]) -> bytes:
    """A log written by hand in the documented layout (only FULL records, one block)."""
    out = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
    for data in records:
        crc = zlib.crc32(data, zlib.crc32(bytes([1]))) & 0xFFFFFFFF
        out += struct.pack("<IHB", crc, len(data), 1) + data
    return out


def test_log_reader_against_hand_written_log(tmp_path):
    path = tmp_path / "run-x.wandb"
    path.write_bytes(_log_bytes([b"first", b"second"]) + b"\x00\x01")  # torn tail is ignored
    assert list(read_log(path)) == [b"first", b"second"]
    damaged = bytearray(_log_bytes([b"first", b"second"]))
    damaged[-1] ^= 0xFF  # bad checksum on the last record: reading stops before it
    path.write_bytes(bytes(damaged))
    assert list(read_log(path)) == [b"first"]
    path.write_bytes(b"PK\x03\x04 not a log")
    with pytest.raises(VersusError, match="not a W&B run log"):
        list(read_log(path))


def test_log_records_spanning_blocks_are_joined(run_folder):
    # The artifact records (540 manifest entries each) are longer than one 32 KiB block.
    records = list(read_log(find_log(run_folder)))
    assert max(len(r) for r in records) > 32768


def test_folder_without_log_is_one_clear_message(tmp_path):
    with pytest.raises(VersusError, match="not a W&B offline run folder"):
        read_offline_run(tmp_path)


def test_steps_by_order_when_history_rows_do_not_name_their_artifact(demo_pair, tmp_path, monkeypatch):
    # W&B leaves artifact_path out of a history row when the Table was first added to another
    # artifact; whether it does so for a given run depends on its internals, so the rows of a
    # real run are stripped of it here and the steps must come from the order alone.
    offline_env(monkeypatch, tmp_path / "wb")
    tables = [quickstart_table(p.ids[:10], None, p.truth[:10], p.scores[:10]) for p in demo_pair]
    run = read_offline_run(offline_run(tmp_path, [(2, tables[0]), (3, tables[1])]))
    assert table_versions(run) == [("test_predictions", "v0", 2), ("test_predictions", "v1", 4)]
    run.history = [{k: v for k, v in row.items() if not k.endswith("/artifact_path")} for row in run.history]
    for art in run.tables:
        art.step = None
    _link_steps(run)
    assert table_versions(run) == [("test_predictions", "v0", 2), ("test_predictions", "v1", 4)]
