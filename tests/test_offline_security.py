"""A crafted offline run cannot make versus read files outside the run and W&B's staging, and a
damaged log is said, never silently read as an older run."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import VersusError
from core.offline_run import (BLOCK, FIRST, FULL, HEADER, LAST, MIDDLE, RECORD, _crc, find_log,
                              load_offline_table, read_log, read_offline_run)
from wandb_helpers import offline_env, offline_run, quickstart_table


def write_log(path: Path, records: list[bytes]) -> None:
    """A .wandb log in W&B's block layout (records split over 32 KiB blocks as W&B does)."""
    out = bytearray(HEADER.pack(b":W&B", 0xBEE1, 0))
    for data in records:
        first = True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < RECORD.size:
                out += b"\0" * left
                continue
            chunk, data = data[: left - RECORD.size], data[left - RECORD.size:]
            kind = (FULL if not data else FIRST) if first else (LAST if not data else MIDDLE)
            out += RECORD.pack(_crc(kind, chunk), len(chunk), kind) + chunk
            first = False
            if not data:
                break
    path.write_bytes(bytes(out))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real offline run with two versions of a small table with images (v0 at epoch 1, v1 at 2)."""
    tmp = tmp_path_factory.mktemp("crafted")
    rng = np.random.default_rng(0)
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp / "wandb-home")
        tables = []
        for epoch in (1, 2):
            scores = rng.dirichlet(np.ones(3), size=6)
            images = [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(6)]
            tables.append((epoch, quickstart_table([f"e{i}" for i in range(6)], images, np.arange(6) % 3, scores)))
        folder = offline_run(tmp, tables)
    deadline = time.monotonic() + 60  # W&B's service may still be flushing the log after finish()
    while len(read_offline_run(folder).tables) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    return folder


def _rewrite(folder: Path, target: Path, change) -> Path:
    """A copy of the run's log in target (a new run folder) with change(record) applied."""
    from wandb.proto import wandb_internal_pb2 as pb

    target.mkdir(parents=True)
    log = find_log(folder)
    records = []
    for data in read_log(log):
        rec = pb.Record()
        rec.ParseFromString(data)
        change(rec)
        records.append(rec.SerializeToString())
    write_log(target / log.name, records)
    return target


def _point(rel_suffix: str, where: str):
    def change(rec) -> None:
        if rec.WhichOneof("record_type") == "artifact":
            for entry in rec.artifact.manifest.contents:
                if entry.path.endswith(rel_suffix):
                    entry.local_path = where
    return change


def _table_doc() -> str:
    return json.dumps({"_type": "table", "columns": ["id", "truth", "score_0", "score_1", "score_2"],
                       "data": [["secret", 0, 1.0, 0.0, 0.0]]})


def test_unchanged_rewrite_still_loads(run, tmp_path):
    copy = _rewrite(run, tmp_path / "copy", lambda rec: None)
    p = load_offline_table(copy, "test_predictions", "v1")
    assert p.n == 6 and p.samples.image(0).shape == (8, 8)


def test_table_path_outside_run_and_staging_is_refused(run, tmp_path):
    secret = tmp_path / "elsewhere" / "secret.table.json"
    secret.parent.mkdir()
    secret.write_text(_table_doc())
    crafted = _rewrite(run, tmp_path / "crafted", _point(".table.json", str(secret)))
    with pytest.raises(VersusError, match="outside the run folder and W&B's staging folder; refused"):
        load_offline_table(crafted, "test_predictions", "v1")
    for absolute in ("/etc/passwd", "/proc/self/environ"):
        crafted = _rewrite(run, tmp_path / f"c{abs(hash(absolute))}", _point(".table.json", absolute))
        with pytest.raises(VersusError, match="refused"):
            load_offline_table(crafted, "test_predictions", "v1")


def test_relative_escape_and_symlink_out_of_staging_are_refused(run, tmp_path):
    secret = tmp_path / "secret.table.json"
    secret.write_text(_table_doc())
    crafted = _rewrite(run, tmp_path / "rel", _point(".table.json", "../../secret.table.json"))
    with pytest.raises(VersusError, match="refused"):
        load_offline_table(crafted, "test_predictions", "v1")
    staging = tmp_path / "fake" / "artifacts" / "staging"
    staging.mkdir(parents=True)
    os.symlink(secret, staging / "tmplink")
    crafted = _rewrite(run, tmp_path / "link", _point(".table.json", str(staging / "tmplink")))
    with pytest.raises(VersusError, match="refused"):
        load_offline_table(crafted, "test_predictions", "v1")


def test_image_path_outside_is_refused_when_read(run, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG not really")
    crafted = _rewrite(run, tmp_path / "img", _point(".png", str(outside)))
    p = load_offline_table(crafted, "test_predictions", "v1")  # the table itself is staged: fine
    with pytest.raises(VersusError, match="refused"):
        for i in range(p.n):
            p.samples.image(i)


def test_damaged_log_is_said_not_silently_older(run, tmp_path):
    log = find_log(run)
    raw = bytearray(log.read_bytes())
    records = list(read_log(log))
    # Damage the record of the second table version's artifact: reading stops there.
    from wandb.proto import wandb_internal_pb2 as pb
    arts = [r for r in records if pb.Record.FromString(r).WhichOneof("record_type") == "artifact"]
    at = raw.find(arts[1][:64])
    assert at > 0
    raw[at + 10] ^= 0xFF
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / log.name).write_bytes(bytes(raw))
    p = load_offline_table(damaged, "test_predictions")  # only v0 is left to read
    assert p.meta["table_version"] == "v0"
    assert any("is damaged at byte" in w for w in p.meta["warnings"])
    clean = load_offline_table(run, "test_predictions")
    assert clean.meta["table_version"] == "v1" and not clean.meta["warnings"]
