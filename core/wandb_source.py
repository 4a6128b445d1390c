"""W&B runs as sources: run lists, logged prediction tables (run_table artifacts) and their
versions, a table as Predictions with images fetched lazily, the full training history, and
model artifacts downloaded to become checkpoint sources.

Tables are read from the artifact (`<key>.table.json`, fetched alone with get_entry), never
from the run's media/table copy, which has no images and stops at 10,000 rows. Images are
fetched one file at a time when a view asks for them, into a folder named by the artifact's
digest, so each is fetched once. Every cloud call is bounded (core.wandb_api.call).
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from core.cache import default_root
from core.checkpoints import CHECKPOINT_SUFFIXES
from core.errors import VersusError
from core.predictions import Predictions
from core.tables import ColumnMap, FetchedImages, check_relative, resolve_inside, table_predictions
from core.wandb_api import CloudApi, CloudArtifact, CloudRun, call

ACCURACY_KEYS = ("accuracy", "acc", "test_accuracy", "test_acc", "val_accuracy", "val_acc")
MODEL_DOWNLOAD_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class RunInfo:
    """One line of a run list."""

    path: str
    id: str
    name: str
    state: str
    created: str
    config: tuple[tuple[str, Any], ...]
    accuracy: float | None

    def label(self) -> str:
        """name (id) · state · created · accuracy · a few config values."""
        parts = [f"{self.name} ({self.id})", self.state, self.created[:16].replace("T", " ")]
        if self.accuracy is not None:
            parts.append(f"acc {self.accuracy:.4f}")
        parts += [f"{k}={v}" for k, v in self.config]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class TableVersion:
    """One logged version of a prediction table."""

    key: str
    version: str
    digest: str
    step: int | None

    def label(self) -> str:
        """v3 · step 12."""
        return self.version + (f" · step {self.step}" if self.step is not None else "")


def check_project(text: str) -> str:
    """entity/project, stripped; a clear error otherwise."""
    text = text.strip().strip("/")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", text):
        raise VersusError(f"{text!r} is not entity/project.")
    return text


def parse_run_path(text: str) -> tuple[str, str, str]:
    """(entity, project, run id) of 'entity/project/run_id' (a '/runs/' part is allowed)."""
    parts = [p for p in text.strip().strip("/").split("/") if p and p != "runs"]
    if len(parts) != 3 or not all(re.fullmatch(r"[\w.-]+", p) for p in parts):
        raise VersusError(f"{text!r} is not entity/project/run_id.")
    return parts[0], parts[1], parts[2]


def _few_config(config: Any, limit: int = 3) -> tuple[tuple[str, Any], ...]:
    items = [(k, v) for k, v in dict(config or {}).items()
             if not str(k).startswith("_") and isinstance(v, (int, float, str, bool))]
    return tuple(items[:limit])


def _accuracy(summary: Any) -> float | None:
    for key in ACCURACY_KEYS:
        value = summary.get(key) if summary is not None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def run_info(run: CloudRun) -> RunInfo:
    """The run-list line of a run."""
    return RunInfo(f"{run.entity}/{run.project}/{run.id}", run.id, run.name or run.id,
                   str(run.state or ""), str(getattr(run, "created_at", "") or ""),
                   _few_config(run.config), _accuracy(run.summary))


def list_runs(api: CloudApi, project: str, limit: int = 100) -> list[RunInfo]:
    """The newest runs of entity/project."""
    project = check_project(project)
    return call(lambda: [run_info(r) for r in islice(api.runs(project, order="-created_at",
                                                             per_page=limit), limit)],
                f"listing the runs of {project}")


def _run(api: CloudApi, run_path: str) -> CloudRun:
    path = "/".join(parse_run_path(run_path))
    return call(lambda: api.run(path), f"opening run {path}")


def _version_number(art: CloudArtifact) -> int:
    digits = re.sub(r"\D", "", str(art.version))
    return int(digits) if digits else 0


def table_versions(api: CloudApi, run_path: str) -> list[TableVersion]:
    """Every logged version of every prediction table of a run, with the step it was logged at
    (the n-th history row holding the key belongs to the n-th version)."""
    run = _run(api, run_path)
    arts = call(lambda: [a for a in run.logged_artifacts() if a.type == "run_table"],
                f"listing the tables of run {run.id}")
    prefix = f"run-{run.id}-"
    by_key: dict[str, list[CloudArtifact]] = {}
    for a in arts:
        base = str(a.name).split(":", 1)[0]
        by_key.setdefault(base[len(prefix):] if base.startswith(prefix) else base, []).append(a)
    out: list[TableVersion] = []
    for key, versions in sorted(by_key.items()):
        versions.sort(key=_version_number)
        rows = call(lambda: list(run.scan_history(keys=[key, "_step"])), f"reading the history of {key}")
        steps = [r.get("_step") for r in rows]
        if len(steps) != len(versions):
            steps = [None] * len(versions)
        out += [TableVersion(key, str(a.version), str(a.digest), s) for a, s in zip(versions, steps)]
    return out


def _digest_folder(kind: str, digest: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", digest)
    return default_root() / "wandb" / kind / safe


class ArtifactFiles:
    """Single files of one artifact, each fetched once into a folder named by its digest."""

    def __init__(self, art: CloudArtifact, source: str) -> None:
        self.art, self.source = art, source
        self.folder = _digest_folder("artifacts", str(art.digest))
        self._lock = threading.Lock()

    def get(self, rel: str) -> Path:
        """Local path of the artifact file rel (fetched when not yet on disk)."""
        rel = check_relative(rel, self.source)
        target = resolve_inside(self.folder, rel, self.source)
        with self._lock:
            if not target.is_file():
                entry = call(lambda: self.art.get_entry(rel), f"finding {rel} in {self.source}")
                call(lambda: entry.download(root=str(self.folder)), f"fetching {rel}")
                target = resolve_inside(self.folder, rel, self.source)
                if not target.is_file():
                    raise VersusError(f"W&B did not deliver {rel} of {self.source}.")
        return target


def load_run_table(api: CloudApi, run_path: str, key: str | None = None, version: str | None = None,
                   m: ColumnMap = ColumnMap()) -> Predictions:
    """Predictions from one version of a run's logged table (latest when version is None)."""
    entity, project, run_id = parse_run_path(run_path)
    if key is None:
        keys = sorted({t.key for t in table_versions(api, run_path)})
        if len(keys) != 1:
            found = ", ".join(keys) if keys else "none"
            raise VersusError(f"Name the table of run {run_id} to compare (its tables: {found}).")
        key = keys[0]
    version = version or "latest"
    name = f"{entity}/{project}/run-{run_id}-{key}:{version}"
    source = f"{run_id}:{key}:{version}"
    art = call(lambda: api.artifact(name, type="run_table"), f"finding table {key} {version} of run {run_id}")
    files = ArtifactFiles(art, source)
    raw = files.get(f"{key}.table.json").read_bytes()
    return table_predictions(
        raw, m, source, "W&B run table",
        lambda paths, fp: FetchedImages(paths, files.get, f"wandb:{art.digest}", source),
        wandb_run=f"{entity}/{project}/{run_id}", table_key=key, table_version=str(art.version),
        artifact_digest=str(art.digest),
    )


def history_keys(api: CloudApi, run_path: str) -> list[str]:
    """The numeric metrics a run logged (from its summary), system keys left out."""
    run = _run(api, run_path)
    summary = call(lambda: dict(run.summary), f"reading the summary of run {run.id}")
    return sorted(k for k, v in summary.items() if not str(k).startswith("_")
                  and isinstance(v, (int, float)) and not isinstance(v, bool))


def run_history(api: CloudApi, run_path: str, keys: list[str]) -> pd.DataFrame:
    """Long frame (key, step, value) of the full history of keys (every row, not a sample)."""
    run = _run(api, run_path)
    rows: list[tuple[str, Any, float]] = []
    for key in keys:
        got = call(lambda: list(run.scan_history(keys=[key, "_step"], page_size=1000)),
                   f"reading the history of {key}")
        rows += [(key, r.get("_step"), float(r[key])) for r in got
                 if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]
    return pd.DataFrame(rows, columns=["key", "step", "value"])


def model_artifacts(api: CloudApi, run_path: str) -> list[str]:
    """Full names (entity/project/name:version) of the model artifacts a run logged."""
    entity, project, _ = parse_run_path(run_path)
    run = _run(api, run_path)
    arts = call(lambda: [a for a in run.logged_artifacts() if a.type == "model"],
                f"listing the models of run {run.id}")
    return [f"{entity}/{project}/{str(a.name).split(':', 1)[0]}:{a.version}" for a in arts]


def download_model(api: CloudApi, name: str) -> Path:
    """The checkpoint file of a model artifact, downloaded once into a folder named by its digest."""
    art = call(lambda: api.artifact(name, type="model"), f"finding model {name}")
    folder = _digest_folder("models", str(art.digest))
    done = folder / ".complete"
    if not done.is_file():
        call(lambda: art.download(root=str(folder)), f"downloading model {name}", MODEL_DOWNLOAD_TIMEOUT_S)
        done.touch()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES
                   and not p.is_symlink())
    if len(files) != 1:
        listed = ", ".join(os.path.relpath(p, folder) for p in files) or "none"
        raise VersusError(f"Model {name} should hold one checkpoint file ({', '.join(CHECKPOINT_SUFFIXES)}); "
                          f"it holds {listed}.")
    return files[0]
