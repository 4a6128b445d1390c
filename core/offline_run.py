"""A local W&B offline run (`wandb/offline-run-*`), read through its `run-<id>.wandb` log.

The log is W&B's LevelDB-style record file: a 7-byte header (":W&B", magic 0xBEE1, version 0),
then 32 KiB blocks of records, each `crc32 (4) | length (2) | type (1) | data`, a record split
over blocks as FIRST/MIDDLE/LAST pieces; each whole record is a `wandb_internal_pb2.Record`.
From it: the run (id, project, config), its history rows, and its artifacts. A logged table's
files live in W&B's staging folder until the run is synced; when they are gone we say so.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from core.errors import VersusError
from core.predictions import Predictions
from core.tables import ColumnMap, FetchedImages, check_relative, table_predictions

HEADER = struct.Struct("<4sHB")
HEADER_IDENT, HEADER_MAGIC, HEADER_VERSION = b":W&B", 0xBEE1, 0
BLOCK = 32768
RECORD = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
CLIENT_PREFIX = "wandb-client-artifact://"


def _crc(kind: int, data: bytes) -> int:
    return zlib.crc32(data, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF


class LogDamage:
    """Where a log stopped making sense, if it did (set by read_log)."""

    def __init__(self) -> None:
        self.at: int | None = None


def read_log(path: Path, damage: LogDamage | None = None) -> Iterator[bytes]:
    """The whole records of a .wandb log, in order. A record that fails its checksum ends the
    reading; its offset goes into damage, since what was logged after it is lost."""
    raw = path.read_bytes()
    if len(raw) < HEADER.size:
        raise VersusError(f"{path.name} is empty or cut short; it is not a W&B run log.")
    ident, magic, version = HEADER.unpack_from(raw)
    if ident != HEADER_IDENT or magic != HEADER_MAGIC or version != HEADER_VERSION:
        raise VersusError(f"{path.name} is not a W&B run log (unknown header).")
    pos, pending = HEADER.size, b""
    while pos + RECORD.size <= len(raw):
        left = BLOCK - pos % BLOCK
        if left < RECORD.size:
            pos += left
            continue
        checksum, length, kind = RECORD.unpack_from(raw, pos)
        data = raw[pos + RECORD.size: pos + RECORD.size + length]
        if kind == 0 and checksum == 0 and length == 0:
            pos += left  # zero padding to the end of a block
            continue
        if len(data) < length or _crc(kind, data) != checksum or kind not in (FULL, FIRST, MIDDLE, LAST):
            if damage is not None:
                damage.at = pos
            return
        pos += RECORD.size + length
        if kind == FULL:
            yield data
        elif kind == FIRST:
            pending = data
        elif kind == MIDDLE:
            pending += data
        elif kind == LAST:
            yield pending + data
            pending = b""


@dataclass
class StagedArtifact:
    """An artifact the run logged: its files' staging paths by artifact path."""

    name: str
    type: str
    version: str
    digest: str
    client_id: str
    files: dict[str, str]
    step: int | None = None


@dataclass
class OfflineRun:
    """What an offline run logged."""

    folder: Path
    run_id: str
    project: str
    name: str
    config: dict[str, Any]
    history: list[dict[str, Any]]
    artifacts: list[StagedArtifact] = field(default_factory=list)
    damaged_at: int | None = None

    @property
    def label(self) -> str:
        """The run id, or the folder's name when the log named none."""
        return self.run_id or self.folder.name

    def damage_note(self) -> str | None:
        """A sentence when the log is damaged (what follows the damage was not read)."""
        if self.damaged_at is None:
            return None
        return (f"The log of offline run {self.label} is damaged at byte {self.damaged_at}: what was logged "
                "after that point (later table versions among it) could not be read.")

    @property
    def tables(self) -> list[StagedArtifact]:
        """The run_table artifacts, one per logged table version."""
        return [a for a in self.artifacts if a.type == "run_table"]

    def table_key(self, art: StagedArtifact) -> str:
        """The history key a run_table artifact was logged under."""
        prefix = f"run-{self.run_id}-"
        return art.name[len(prefix):] if art.name.startswith(prefix) else art.name


def find_log(folder: str | Path) -> Path:
    """The run-<id>.wandb file of an offline run folder (or the file itself)."""
    p = Path(folder).expanduser()
    if p.is_file() and p.suffix == ".wandb":
        return p
    logs = sorted(p.glob("run-*.wandb")) if p.is_dir() else []
    if not logs:
        raise VersusError(f"{folder} is not a W&B offline run folder (no run-<id>.wandb file in it).")
    return logs[0]


def _item_key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _history_row(record: Any) -> dict[str, Any]:
    row = {_item_key(i): _value(i.value_json) for i in record.history.item}
    row.setdefault("_step", record.history.step.num)
    return row


def read_offline_run(folder: str | Path) -> OfflineRun:
    """Run, config, history and artifacts of an offline run folder."""
    from wandb.proto import wandb_internal_pb2 as pb

    log = find_log(folder)
    run = OfflineRun(log.parent, "", "", "", {}, [])
    counts: dict[str, int] = {}
    damage = LogDamage()
    for data in read_log(log, damage):
        rec = pb.Record()
        try:
            rec.ParseFromString(data)
        except Exception:  # a record from another wandb version we cannot parse: skip it
            continue
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            r = rec.run
            run.run_id, run.project, run.name = r.run_id, r.project, r.display_name or r.run_id
            run.config.update({_item_key(u): _value(u.value_json) for u in r.config.update
                               if not _item_key(u).startswith("_")})
        elif kind == "config":
            run.config.update({_item_key(u): _value(u.value_json) for u in rec.config.update
                               if not _item_key(u).startswith("_")})
        elif kind == "history":
            run.history.append(_history_row(rec))
        elif kind == "artifact":
            a = rec.artifact
            version = counts.get(a.name, 0)
            counts[a.name] = version + 1
            files = {c.path: c.local_path for c in a.manifest.contents}
            run.artifacts.append(StagedArtifact(a.name, a.type, f"v{version}", a.digest,
                                                a.client_id, files))
    run.damaged_at = damage.at
    _link_steps(run)
    return run


def _link_steps(run: OfflineRun) -> None:
    """Give each table artifact the step of the history row that points at it (its
    artifact_path names the artifact's client id); a table whose rows do not point at their
    artifacts takes the n-th logged row for its n-th version."""
    by_client = {a.client_id: a for a in run.artifacts if a.client_id}
    for row in run.history:
        for key, value in row.items():
            if key.endswith("/artifact_path") and isinstance(value, str) and value.startswith(CLIENT_PREFIX):
                art = by_client.get(value[len(CLIENT_PREFIX):].split("/", 1)[0])
                if art is not None:
                    art.step = row.get("_step")
    for key in {run.table_key(a) for a in run.tables}:
        arts = [a for a in run.tables if run.table_key(a) == key]
        steps = [row.get("_step") for row in run.history if row.get(f"{key}/_type") == "table-file"]
        if all(a.step is None for a in arts) and len(steps) == len(arts):
            for a, step in zip(arts, steps):
                a.step = step


def table_versions(run: OfflineRun) -> list[tuple[str, str, int | None]]:
    """(key, version, step) of every logged table, in log order."""
    return [(run.table_key(a), a.version, a.step) for a in run.tables]


def _find_table(run: OfflineRun, key: str | None, version: str | None) -> StagedArtifact:
    tables = run.tables
    keys = sorted({run.table_key(a) for a in tables})
    if not tables:
        raise VersusError(f"The offline run {run.label} logged no tables.")
    if key is None:
        if len(keys) > 1:
            raise VersusError(f"The offline run {run.label} logged several tables ({', '.join(keys)}); name one.")
        key = keys[0]
    same = [a for a in tables if run.table_key(a) == key]
    if not same:
        raise VersusError(f"The offline run {run.label} logged no table {key!r} (it has {', '.join(keys)}).")
    if version in (None, "latest"):
        return same[-1]
    for a in same:
        if a.version == version:
            return a
    raise VersusError(f"Table {key!r} of run {run.label} has no version {version} "
                      f"(it has {', '.join(a.version for a in same)}).")


def staging_root() -> Path:
    """W&B's staging folder as wandb computes it from the environment (never from a log)."""
    data = os.environ.get("WANDB_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "wandb")
    return (Path(data).expanduser() / "artifacts" / "staging").resolve()


def may_read(run_folder: Path, real: Path) -> bool:
    """Whether a resolved path a log names may be read: inside the run folder, or a file W&B
    staged (a direct child of an `artifacts/staging` folder: W&B's own, or the one of a data
    folder the run was logged with)."""
    staged = real.parent.name == "staging" and real.parent.parent.name == "artifacts"
    return real.is_relative_to(run_folder.resolve()) or real.is_relative_to(staging_root()) or staged


def _staged(run_folder: Path, art: StagedArtifact, rel: str, what: str) -> Path:
    local = art.files.get(rel)
    if local is None:
        raise VersusError(f"{rel!r} is not a file of the artifact {art.name}:{art.version}; refused.")
    path = Path(local)
    if not path.is_absolute():
        path = run_folder / path
    real = path.resolve()
    if not may_read(run_folder, real):
        raise VersusError(f"The log of {what} names {local}, a file outside the run folder and W&B's "
                          "staging folder; refused.")
    path = real
    if not path.is_file():
        raise VersusError(f"The staged files of {what} are gone: {path} no longer exists (W&B removes "
                          "them once a run is synced); download the run_table artifact instead.")
    return path


def load_offline_table(folder: str | Path, key: str | None = None, version: str | None = None,
                       m: ColumnMap = ColumnMap()) -> Predictions:
    """Predictions from a table an offline run logged, read from W&B's staged files."""
    run = read_offline_run(folder)
    art = _find_table(run, key, version)
    key = run.table_key(art)
    step = f", step {art.step}" if art.step is not None else ""
    what = f"table {key!r} {art.version}{step} of offline run {run.run_id}"
    raw = _staged(run.folder, art, f"{key}.table.json", what).read_bytes()
    source = f"{run.label}:{key}:{art.version}"
    damage = run.damage_note()
    return table_predictions(
        raw, m, source, "W&B offline run table",
        lambda paths, fp: FetchedImages(paths, lambda rel: _staged(run.folder, art, check_relative(rel, source), what),
                                        f"offline:{fp}", source),
        offline_run=str(run.folder), table_key=key, table_version=art.version, step=art.step,
        warnings=[damage] if damage else [],
    )


def offline_history(run: OfflineRun, keys: list[str]) -> pd.DataFrame:
    """Long frame (key, step, value) of the numeric values of keys over the whole history."""
    rows = [(k, row.get("_step"), row[k]) for row in run.history for k in keys
            if isinstance(row.get(k), (int, float)) and not isinstance(row.get(k), bool)]
    return pd.DataFrame(rows, columns=["key", "step", "value"])


def numeric_keys(run: OfflineRun) -> list[str]:
    """History keys with numeric values, system keys (leading '_') left out."""
    media = {k.rsplit("/", 1)[0] for row in run.history for k in row if k.endswith("/_type")}
    keys = {k for row in run.history for k, v in row.items()
            if not k.startswith("_") and k.split("/", 1)[0] not in media
            and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return sorted(keys)
