"""W&B objects the tests build offline: quickstart tables, artifact folders laid out the way
`Artifact.download` lays them out, offline runs, and a fake cloud API served from them.

The fake mirrors wandb.Api / Run / Artifact / ArtifactManifestEntry with the same method
signatures (test_wandb_fake_api.py checks them against the installed wandb)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest


def offline_env(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """W&B offline and silent, every folder it writes under root."""
    for var, sub in (("WANDB_DIR", "dir"), ("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"),
                     ("WANDB_CONFIG_DIR", "config"), ("WANDB_ARTIFACT_DIR", "artifacts")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(root / sub))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return root


@pytest.fixture
def wandb_env(tmp_path, monkeypatch) -> Path:
    """W&B offline and silent for one test, its folders under tmp_path."""
    return offline_env(monkeypatch, tmp_path / "wandb-home")


def quickstart_table(ids: Sequence[str], images: Sequence[np.ndarray] | None, truth: np.ndarray,
                     scores: np.ndarray, with_scores: bool = True, guess: np.ndarray | None = None):
    """The W&B Tables quickstart layout: id, image, guess, truth, score_0..score_{C-1}."""
    import wandb

    c = scores.shape[1]
    cols = ["id", "image", "guess", "truth"] + ([f"score_{k}" for k in range(c)] if with_scores else [])
    table = wandb.Table(columns=cols)
    guess = scores.argmax(axis=1) if guess is None else guess
    for i, ident in enumerate(ids):
        img = wandb.Image(images[i]) if images is not None else None
        row = [str(ident), img, int(guess[i]), int(truth[i])]
        if with_scores:
            row += [float(s) for s in scores[i]]
        table.add_data(*row)
    return table


def artifact_folder(table, folder: Path, key: str = "test_predictions", name: str = "run-x-test_predictions") -> Path:
    """A run_table artifact holding table, written as Artifact.download writes it: every
    manifest entry at folder/<entry path>."""
    from wandb.sdk.artifacts._internal_artifact import InternalArtifact

    art = InternalArtifact(name, "run_table")  # what run.log does (wandb/sdk/data_types/utils.py)
    art.add(table, key)
    folder.mkdir(parents=True, exist_ok=True)
    for path, entry in art.manifest.entries.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.local_path, target)
    return folder


def offline_run(base: Path, tables: list[tuple[int, Any]], key: str = "test_predictions",
                config: dict | None = None, model_file: Path | None = None) -> Path:
    """A real offline run: history (loss, acc, epoch) every epoch, the table logged at the
    given epochs with run.log, optionally a model artifact; returns its folder."""
    import wandb

    run = wandb.init(mode="offline", dir=str(base), project="versus-test", config=config or {"lr": 0.01})
    by_epoch = dict(tables)
    for epoch in range(1, max(by_epoch) + 1):
        run.log({"loss": 1.0 / epoch, "acc": 1.0 - 0.5 / epoch, "epoch": epoch})
        if epoch in by_epoch:
            run.log({key: by_epoch[epoch]})
    if model_file is not None:
        art = wandb.Artifact("model", type="model")
        art.add_file(str(model_file))
        run.log_artifact(art)
    folder = Path(run.dir).parent
    run.finish()
    # finish() can return before W&B's service has closed the log; teardown waits for it, so
    # the log read next holds every table logged above (without it, a loaded CI machine once
    # read a log that ended before the last table version).
    wandb.teardown()
    from core.offline_run import read_offline_run

    logged = len(read_offline_run(folder).tables)
    assert logged == len(tables), f"the offline run's log holds {logged} of {len(tables)} tables"
    return folder


# ---- the fake cloud API -----------------------------------------------------------------------

class FakeEntry:
    """Stands for wandb's ArtifactManifestEntry."""

    def __init__(self, art: "FakeArtifact", path: str, local: str) -> None:
        self._art, self.path, self._local = art, path, local
        self.digest, self.size = f"md5-{path}", os.path.getsize(local)

    def download(self, root: str | None = None, skip_cache: bool | None = None,
                 executor: Any = None) -> str:
        self._art.api.calls.append(("entry.download", self.path))
        target = Path(root) / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._local, target)
        return str(target)


class FakeArtifact:
    """Stands for wandb's Artifact (a logged version)."""

    def __init__(self, api: "FakeApi", name: str, version: str, type: str, digest: str,
                 files: dict[str, str], created_at: str = "2026-01-01T00:00:00Z") -> None:
        self.api, self.name, self.version, self.type, self.digest = api, f"{name}:{version}", version, type, digest
        self.metadata: dict = {}
        self.created_at = created_at
        self._files = files

    def get_entry(self, name: Any) -> FakeEntry:
        self.api.calls.append(("get_entry", str(name)))
        if str(name) not in self._files:
            raise KeyError(f"Path not contained in artifact: {name}")
        return FakeEntry(self, str(name), self._files[str(name)])

    def download(self, root: Any = None, allow_missing_references: bool = False,
                 skip_cache: bool | None = None, path_prefix: Any = None,
                 multipart: bool | None = None) -> str:
        self.api.calls.append(("artifact.download", self.name))
        for path, local in self._files.items():
            target = Path(root) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target)
        return str(root)


class FakeRun:
    """Stands for wandb.apis.public.Run."""

    def __init__(self, entity: str, project: str, run_id: str, name: str, config: dict,
                 history: list[dict], artifacts: list[FakeArtifact], state: str = "finished") -> None:
        self.entity, self.project, self.id, self.name = entity, project, run_id, name
        self.state, self.created_at, self.config = state, "2026-01-02T03:04:05Z", config
        self._history, self._artifacts = history, artifacts
        self.summary = {k: v for row in history for k, v in row.items()}

    def logged_artifacts(self, per_page: int = 100) -> list[FakeArtifact]:
        return list(self._artifacts)

    def scan_history(self, keys: list[str] | None = None, page_size: int = 1000, min_step: int = 0,
                     max_step: int | None = None, use_cache: bool = True) -> list[dict]:
        rows = [r for r in self._history if keys is None or all(k in r for k in keys)]
        return [{k: r[k] for k in keys} if keys else dict(r) for r in rows]


class FakeApi:
    """Stands for wandb.Api, serving runs built from real offline runs."""

    def __init__(self, entity: str = "team", project: str = "versus-test") -> None:
        self.settings = {"entity": entity, "project": project, "base_url": "https://fake.invalid"}
        self._runs: dict[str, FakeRun] = {}
        self.calls: list[tuple[str, str]] = []

    def add_offline_run(self, folder: Path, entity: str = "team") -> FakeRun:
        """Serve an offline run (history, run_table and model artifacts from its staged files)."""
        from core.offline_run import read_offline_run

        off = read_offline_run(folder)
        arts = [FakeArtifact(self, a.name, a.version, a.type, a.digest, a.files) for a in off.artifacts]
        history = [{k: v for k, v in row.items() if "/" not in k} for row in off.history]
        for row, orig in zip(history, off.history):
            for k in orig:
                if k.endswith("/_type"):
                    row[k.split("/", 1)[0]] = {"_type": orig[k]}
        run = FakeRun(entity, off.project, off.run_id, f"run-{off.run_id[:4]}", off.config, history, arts)
        self._runs[f"{entity}/{off.project}/{off.run_id}"] = run
        return run

    def runs(self, path: str | None = None, filters: dict[str, Any] | None = None,
             order: str = "+created_at", per_page: int = 50, include_sweeps: bool = False,
             lazy: bool = True) -> list[FakeRun]:
        self.calls.append(("runs", str(path)))
        found = [r for p, r in self._runs.items() if p.startswith(f"{path}/")]
        if not found:
            raise ValueError(f"Could not find project {path}")
        return found

    def run(self, path: str = "") -> FakeRun:
        self.calls.append(("run", path))
        if path not in self._runs:
            raise ValueError(f"Could not find run {path}")
        return self._runs[path]

    def artifact(self, name: str, type: str | None = None) -> FakeArtifact:
        self.calls.append(("artifact", name))
        base, version = name.rsplit(":", 1)
        entity, project, art_name = base.split("/")
        for path, run in self._runs.items():
            if not path.startswith(f"{entity}/{project}/"):
                continue
            same = [a for a in run._artifacts if a.name.split(":")[0] == art_name and (type is None or a.type == type)]
            if version == "latest" and same:
                return same[-1]
            for a in same:
                if a.version == version:
                    return a
        raise ValueError(f"artifact '{name}' not found in '{entity}/{project}'")


def demo_offline_run(demo_pair, tmp: Path, **kwargs: Any) -> Path:
    """An offline run that logged the demo's epoch-1 table at step 1 and epoch-5 table at step 5."""
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp / "wandb-home")
        tables = [(epoch, quickstart_table(p.ids, [p.samples.image(i) for i in range(p.n)], p.truth, p.scores))
                  for epoch, p in zip((1, 5), demo_pair)]
        return offline_run(tmp, tables, **kwargs)


def skill_series_run(base: Path, seed: int, n: int, c: int, skills: Sequence[float]) -> tuple[Path, np.ndarray, list]:
    """An offline run logging one prediction table per skill (epochs 1, 2, ...) over the same n
    images and labels, each more skilled than the last: (run folder, truth, each table's scores)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, c, n)
    ids = [f"img{i:03d}" for i in range(n)]
    images = [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(n)]
    scores = []
    for skill in skills:
        logits = rng.normal(size=(n, c))
        logits[np.arange(n), truth] += skill
        scores.append((np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32))
    tables = [(e, quickstart_table(ids, images, truth, s)) for e, s in enumerate(scores, start=1)]
    return offline_run(base, tables), truth, scores
