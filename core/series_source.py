"""Series sources: a folder of epoch checkpoints, an explicit list, or every version of one
logged table (`RUN:KEY`, an offline run folder or `wandb:ENTITY/PROJECT/RUN_ID`), evaluated into
a compact core.series.Series (guesses and confidences per checkpoint, never T score matrices).

Checkpoints are evaluated together in one pass over the data (core.sources.evaluate). A folder
is ordered by the epoch in each file (else in its name: epoch_2 before epoch_10, Lightning's
`epoch=0-step=20.ckpt`, HF `epoch_N/` folders); an explicit list keeps the order given.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.checkpoints import MODEL_SUFFIXES, epoch_from_name, list_models, load_checkpoint
from core.datasets import EvalData
from core.errors import VersusError, not_found
from core.predictions import Predictions
from core.series import CheckpointMetrics, Series, checkpoint_metrics, compact_guess



@dataclass(frozen=True)
class SeriesSpec:
    """What a series is made of: checkpoint paths (kind "checkpoints", `ordered` when they came
    from a folder) or the versions of one table of a run (kind "offline" or "wandb")."""

    kind: str
    paths: tuple[str, ...] = ()
    run: str | None = None
    key: str | None = None
    ordered: bool = False

    def display(self) -> str:
        """Short name of the series."""
        if self.kind == "checkpoints":
            return str(Path(self.paths[0]).parent) if self.ordered and self.paths else f"{len(self.paths)} checkpoints"
        return f"{self.run}:{self.key}" if self.key else str(self.run)


@dataclass(frozen=True)
class Member:
    """One checkpoint of a series before evaluation."""

    path: str
    epoch: int | None
    step: int | None
    signature: tuple | None  # parameter names and shapes; None when not read (HF folder, ONNX)


def _is_offline_run(path: Path) -> bool:
    return path.is_dir() and any(path.glob("run-*.wandb"))


def parse_series(models: list[str] | None = None, folder: str | None = None) -> SeriesSpec:
    """The series of `--models P1 P2 ...` or `--folder DIR | RUN[:KEY] | wandb:E/P/RUN_ID[:KEY]`."""
    if models:
        if len(models) < 2:
            raise VersusError("A series needs at least two checkpoints (--models P1 P2 ...).")
        return SeriesSpec("checkpoints", tuple(models))
    if not folder:
        raise VersusError("Say what the series is: --models P1 P2 ..., --folder DIR or --folder RUN:KEY.")
    if folder.startswith("wandb:"):
        parts = folder[len("wandb:"):].split(":")
        if len(parts) > 2 or parts[0].count("/") != 2:
            raise VersusError(f"{folder} is not wandb:ENTITY/PROJECT/RUN_ID[:TABLE_KEY].")
        return SeriesSpec("wandb", run=parts[0], key=(parts[1] if len(parts) > 1 else None) or None)
    run, _, key = folder.rpartition(":")
    if run and _is_offline_run(Path(run).expanduser()):
        return SeriesSpec("offline", run=run, key=key or None)
    if run.rpartition(":")[0] and _is_offline_run(Path(run.rpartition(":")[0]).expanduser()):
        raise VersusError(f"--folder {folder} names a table version ({key}); a series takes every version "
                          f"of a key: --folder {run}.")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise not_found(folder, "folder of checkpoints (--models takes files)")
    if _is_offline_run(root):
        return SeriesSpec("offline", run=folder)
    return SeriesSpec("checkpoints", tuple(str(p) for p in list_series(root)), ordered=True)


def list_series(root: Path) -> list[Path]:
    """The checkpoints in a folder (files with a checkpoint suffix, `epoch_N` sub-folders),
    ordered by the epoch in their name, then naturally (epoch_2 before epoch_10)."""
    found = list_models(root)
    if not found:
        raise VersusError(f"The folder {root} holds no checkpoints ({', '.join(MODEL_SUFFIXES)} files or "
                          "epoch_N folders).")
    return found


def _member(path: str, trust: bool) -> Member:
    """Read a checkpoint once to learn its epoch and parameter shapes (then let it go)."""
    p = Path(path).expanduser()
    if p.is_dir() or p.suffix.lower() == ".onnx":
        if not p.exists():
            raise not_found(path, "checkpoint")
        return Member(path, epoch_from_name(p), None, None)
    ck = load_checkpoint(p, trust=trust)
    step = ck.extra.get("global_step") if isinstance(ck.extra.get("global_step"), int) else None
    if ck.state_dict is not None:
        sig = tuple(sorted((k, tuple(v.shape)) for k, v in ck.state_dict.items()))
    else:
        sig = (("module", type(ck.module).__name__),)
    return Member(path, ck.epoch, step, sig)


def _signature_detail(sig: tuple, ref: tuple) -> str:
    a, b = dict(sig), dict(ref)
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            return f"{k}: {a.get(k, 'absent')} against {b.get(k, 'absent')}"
    return "different layers"


class _Gate:
    """Bad members: one sentence raised at once, or with skip_bad a warning and the rest kept."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.warnings: list[str] = []

    def bad(self, message: str, dropped: bool = True) -> None:
        """Raise message, or (skip_bad) record it: the member dropped, or kept when not dropped."""
        if not self.skip_bad:
            raise VersusError(message)
        self.warnings.append(f"Skipped from the series: {message}" if dropped else
                             f"{message} The series is shown as it is (--skip-bad).")


def check_members(spec: SeriesSpec, trust: bool, gate: _Gate) -> list[Member]:
    """Readable checkpoints of one architecture, in series order, with no repeated epoch and
    (for a folder) no gap; each problem names its file."""
    members: list[Member] = []
    for path in spec.paths:
        try:
            members.append(_member(path, trust))
        except VersusError as exc:
            gate.bad(str(exc) if Path(path).name in str(exc) else f"{Path(path).name}: {exc}")
    sigs = collections.Counter(m.signature for m in members if m.signature is not None)
    if len(sigs) > 1:
        ref_sig = sigs.most_common(1)[0][0]
        ref = next(m for m in members if m.signature == ref_sig)
        for m in [m for m in members if m.signature not in (None, ref_sig)]:
            gate.bad(f"{Path(m.path).name} has a different architecture or class count from "
                     f"{Path(ref.path).name} ({_signature_detail(m.signature, ref_sig)}).")
            members.remove(m)
    if spec.ordered and all(m.epoch is not None for m in members):
        members.sort(key=lambda m: m.epoch)
    seen: dict[int, Member] = {}
    for m in list(members):
        if m.epoch is not None and m.epoch in seen:
            what = f"{Path(m.path).name} repeats epoch {m.epoch} of {Path(seen[m.epoch].path).name}."
            if spec.ordered and Path(m.path).stem.startswith("last"):  # Lightning's save_last copy
                gate.warnings.append(f"{what} It was left out as Lightning's copy of the latest checkpoint.")
            else:
                gate.bad(what)
            members.remove(m)
        elif m.epoch is not None:
            seen[m.epoch] = m
    if spec.ordered:
        _check_gaps(members, gate)
    if len(members) < 2:
        raise VersusError(f"Fewer than two usable checkpoints are left in the series ({spec.display()}).")
    return members


def _check_gaps(members: list[Member], gate: _Gate) -> None:
    """Epochs evenly spaced (every epoch, or every k-th: the smallest spacing); a wider step is a gap."""
    epochs = [m.epoch for m in members if m.epoch is not None]
    if len(epochs) < 2:
        return
    diffs = np.diff(epochs)
    stride = int(diffs.min())
    for m, prev, d in zip(members[1:], epochs[:-1], diffs.tolist()):
        if d != stride:
            gate.bad(f"The series has a gap: {Path(m.path).name} (epoch {m.epoch}) follows epoch {prev}, "
                     f"but the checkpoints come every {stride} epoch{'s' if stride > 1 else ''}.",
                     dropped=False)


def _compact(p: Predictions, source: str, epoch: int | None, step: int | None,
             truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, CheckpointMetrics]:
    """What the series keeps of one Predictions: guesses, float16 confidences and metrics."""
    guess = p.guess
    conf = p.confidence.astype(np.float16)
    metrics = checkpoint_metrics(source, epoch, step, truth, p.scores, guess,
                                 real_scores=not p.meta.get("scores_are_onehot"))
    return compact_guess(guess, p.num_classes), conf, metrics


def _assemble(items: list[tuple[np.ndarray, np.ndarray, CheckpointMetrics]], ids: np.ndarray,
              truth: np.ndarray, names: list[str], samples: Any, warnings: list[str],
              meta: dict[str, Any]) -> Series:
    return Series(ids, truth, names, np.stack([i[0] for i in items]), np.stack([i[1] for i in items]),
                  [i[2] for i in items], samples, warnings, meta)


def _prediction_warnings(p: Predictions) -> list[str]:
    return [str(w) for w in p.meta.get("warnings", [])]


def evaluate_checkpoints(spec: SeriesSpec, data: Callable[[], EvalData], arch: str | None = None,
                         trust: bool = False, skip_bad: bool = False, **evaluate_args: Any) -> Series:
    """Check the checkpoints, evaluate them together in one pass over data(), keep the compact series."""
    from core.sources import CheckpointSource, evaluate

    gate = _Gate(skip_bad)
    members = check_members(spec, trust, gate)
    ev = data()
    sources = [CheckpointSource(m.path, arch, trust, label=Path(m.path).name) for m in members]
    evaluate_args.setdefault("keep_features", False)  # a series keeps guesses and confidences only
    preds = evaluate(sources, ev, **evaluate_args)
    items, warnings = [], list(gate.warnings)
    for m in members:
        p = preds.pop(0)  # let each score matrix go once reduced
        warnings += [w for w in _prediction_warnings(p) if w not in warnings]
        items.append(_compact(p, Path(m.path).name, m.epoch, m.step, ev.truth))
        del p
    return _assemble(items, ev.ids, ev.truth, list(ev.class_names), ev, warnings, {})


# ---- table versions ------------------------------------------------------------------------

def _versions(spec: SeriesSpec) -> tuple[list[tuple[str, str, int | None]], Callable[[str, str], Predictions], dict, dict]:
    """(key, version, step) of the run's tables, a loader of one version, the run's meta and
    the logged epoch per step."""
    if spec.kind == "offline":
        from core.offline_run import load_offline_table, read_offline_run, table_versions

        run = read_offline_run(spec.run)
        versions = table_versions(run)
        return versions, lambda k, v: load_offline_table(spec.run, k, v), {"offline_run": str(run.folder)}, _epochs(run.history, versions)
    from core import wandb_api, wandb_source

    api = wandb_api.connect()
    versions = [(t.key, t.version, t.step) for t in wandb_source.table_versions(api, spec.run)]
    return (versions, lambda k, v: wandb_source.load_run_table(api, spec.run, k, v),
            {"wandb_run": spec.run}, {})


def _epochs(history: list[dict[str, Any]], versions: list[tuple[str, str, int | None]]) -> dict[int, int]:
    """Step of each table version -> the run's logged `epoch` at that step (the last one logged
    at or before it: W&B gives a table logged in its own run.log call a step of its own)."""
    logged = sorted((r["_step"], r["epoch"]) for r in history
                    if isinstance(r.get("epoch"), int) and isinstance(r.get("_step"), int))
    out = {}
    for _, _, step in versions:
        before = [e for s, e in logged if step is not None and s <= step]
        if before:
            out[step] = before[-1]
    return out


def _aligned(p: Predictions, first: Predictions, name: str) -> Predictions:
    """p reordered to first's ids; other ids or labels are one sentence."""
    if p.n != first.n or set(p.ids.tolist()) != set(first.ids.tolist()):
        raise VersusError(f"{name} holds other example ids than {first.meta.get('source')}.")
    if list(p.class_names) != list(first.class_names):
        raise VersusError(f"{name} has other classes than {first.meta.get('source')}.")
    order = pd.Index(p.ids).get_indexer(first.ids)
    p = p.take(order)
    if not np.array_equal(p.truth, first.truth):
        raise VersusError(f"{name} gives other true labels than {first.meta.get('source')}.")
    return p


def load_table_series(spec: SeriesSpec, skip_bad: bool = False) -> Series:
    """Every version of one logged table, in logging order, as a series (one version at a time)."""
    versions, load, meta, epochs = _versions(spec)
    keys = sorted({k for k, _, _ in versions})
    key = spec.key
    if key is None:
        if len(keys) != 1:
            raise VersusError(f"The run {spec.run} logged {'no tables' if not keys else 'several tables (' + ', '.join(keys) + '); name one as RUN:KEY'}.")
        key = keys[0]
    chosen = [(v, s) for k, v, s in versions if k == key]
    if not chosen:
        raise VersusError(f"The run {spec.run} logged no table {key!r} (it has {', '.join(keys) or 'none'}).")
    gate = _Gate(skip_bad)
    first: Predictions | None = None
    items, warnings = [], []
    for version, step in chosen:
        name = f"{key}:{version}"
        try:
            p = load(key, version)
            p = p if first is None else _aligned(p, first, name)
        except VersusError as exc:
            gate.bad(f"{name}: {exc}" if name not in str(exc) else str(exc))
            continue
        first = first or p
        warnings += [w for w in _prediction_warnings(p) if w not in warnings]
        if p.meta.get("scores_are_onehot"):
            note = f"{name} has no score columns: its ECE is not computed."
            warnings += [note] if note not in warnings else []
        items.append(_compact(p, name, epochs.get(step), step, first.truth))
    if len(items) < 2:
        raise VersusError(f"The table {key!r} of {spec.run} has fewer than two usable versions.")
    assert first is not None
    return _assemble(items, first.ids, first.truth, list(first.class_names), first.samples,
                     gate.warnings + warnings, {**meta, "table_key": key})


def load_series(spec: SeriesSpec, data: Callable[[], EvalData], arch: str | None = None,
                trust: bool = False, skip_bad: bool = False, **evaluate_args: Any) -> Series:
    """The evaluated series of any spec (data() is called only for checkpoints)."""
    if spec.kind == "checkpoints":
        return evaluate_checkpoints(spec, data, arch, trust, skip_bad, **evaluate_args)
    return load_table_series(spec, skip_bad)
