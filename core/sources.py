"""From source specs to Predictions: checkpoints evaluated here, with an on-disk cache."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from core import architectures as archs
from core.cache import ArrayCache, make_key
from core.cache import file_sha256
from core.checkpoints import Checkpoint, load_checkpoint
from core.datasets import EvalData
from core.errors import VersusError
from core.inference import InferenceOptions, Progress, pick_device, run_engine
from core.inference.runner import run_warnings
from core.predictions import Predictions
from core.preprocessing import Preprocessing
from core.tables import FILE_SUFFIXES, TABLE_SUFFIX, ColumnMap, load_predictions_file, load_table_file

CACHE_VERSION = 2  # 2: probabilities and log-probabilities are no longer softmaxed again


@dataclass(frozen=True)
class CheckpointSource:
    """A checkpoint file and how to build its model."""

    path: str
    arch: str | None = None
    trust: bool = False
    label: str | None = None

    def display(self) -> str:
        """Short name for tables and captions."""
        return self.label or self.path


@dataclass(frozen=True)
class PrepOverrides:
    """Preprocessing the user asked for; None fields are inferred."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None


@dataclass
class ResolvedModel:
    """A loaded model, its architecture, preprocessing and cache identity."""

    source: CheckpointSource
    checkpoint: Checkpoint
    module: nn.Module
    arch_label: str
    arch_note: str
    prep: Preprocessing
    identity: dict[str, Any] = field(default_factory=dict)


def resolve_model(src: CheckpointSource, data: EvalData, over: PrepOverrides) -> ResolvedModel:
    """Load the checkpoint, build and fill its architecture, and settle its preprocessing."""
    ckpt = load_checkpoint(src.path, trust=src.trust)
    spec = None
    if ckpt.module is not None:
        module, label, note = ckpt.module, ckpt.format, f"{ckpt.format} (no architecture needed)"
        if src.arch:
            note += f"; --arch {src.arch} ignored"
    else:
        if src.arch:
            spec = archs.parse_arch(src.arch)
            if spec.kind == "file" and not src.trust:
                raise VersusError(
                    f"The architecture {spec.label()} is Python code that runs when imported; it was "
                    "not imported. Allow it only if you trust the file (--trust, or the 'Trust this "
                    "file' box)."
                )
            note = f"{spec.label()} (given)"
        else:
            spec = archs.autodetect(ckpt.state_dict)
            note = f"{spec.label()} (auto-detected)"
        module = archs.load_into(spec, ckpt.state_dict)
        label = spec.label()
    channels = over.channels or archs.first_conv_channels(module) or data.native_channels
    mean, std = over.mean, over.std
    if mean is None and std is None:
        known = archs.known_normalization(spec)
        if known is not None:
            mean, std = tuple(known[0]), tuple(known[1])
    size = over.size or data.default_size
    prep = Preprocessing(size=size, channels=channels, mean=mean, std=std)
    arch_id = label
    if spec is not None and spec.kind == "file":
        arch_id += ":" + file_sha256(spec.path)
    identity = {"v": CACHE_VERSION, "checkpoint": ckpt.sha256, "arch": arch_id,
                "data": data.fingerprint, "prep": prep.key()}
    return ResolvedModel(src, ckpt, module, label, note, prep, identity)


def _predictions(r: ResolvedModel, data: EvalData, scores: np.ndarray, feats: np.ndarray | None,
                 key: str, run_meta: dict | None = None) -> Predictions:
    if scores.shape[1] != len(data.class_names):
        raise VersusError(
            f"{r.source.display()} outputs {scores.shape[1]} classes but the data has "
            f"{len(data.class_names)}."
        )
    meta = {"source": r.source.display(), "checkpoint_sha256": r.checkpoint.sha256,
            "epoch": r.checkpoint.epoch, "format": r.checkpoint.format, "arch": r.arch_label,
            "arch_note": r.arch_note, "preprocessing": r.prep.as_dict(), "data": data.name,
            "content_key": key}
    run_meta = {k: v for k, v in (run_meta or {}).items() if k != "warnings"}
    meta.update(run_meta)  # precision, score_conversion (core/inference)
    meta["warnings"] = list(data.warnings) + run_warnings(r.source.display(), run_meta)
    return Predictions(data.ids, data.truth, scores, data.class_names, samples=data,
                       features=feats, meta=meta)


def evaluate(
    sources: list[CheckpointSource],
    data: EvalData,
    over: PrepOverrides = PrepOverrides(),
    device: str = "auto",
    batch_size: int | None = None,
    keep_features: bool = False,
    cache: ArrayCache | None = None,
    progress: Progress | None = None,
    options: InferenceOptions = InferenceOptions(),
) -> list[Predictions]:
    """Predictions of each checkpoint on data; cached results are reused and the rest are
    computed together in one pass over the data (on the engine options name)."""
    if len(data) == 0:
        raise VersusError("The evaluation data holds no examples.")
    torch_device = pick_device(device)  # a bad device is an error even when every result is cached
    resolved = [resolve_model(s, data, over) for s in sources]
    cache = cache if cache is not None else ArrayCache()
    keys = [make_key({**r.identity, **options.cache_identity(), "features": keep_features}) for r in resolved]
    found = [cache.get(k) for k in keys]
    todo = [j for j, f in enumerate(found) if f is None or len(f["scores"]) != len(data)]
    # Same checkpoint, same identity: compute once.
    unique: dict[str, int] = {}
    for j in todo:
        unique.setdefault(keys[j], j)
    if unique:
        idx = list(unique.values())
        outs = run_engine(options, [resolved[j].module for j in idx], [resolved[j].prep for j in idx], data,
                          torch_device, batch_size, keep_features, progress,
                          names=[resolved[j].source.display() for j in idx])
        for j, out in zip(idx, outs):
            arrays = {"scores": out.scores, "run_meta": _meta_array(out.meta)}
            if out.features is not None:
                arrays["features"] = out.features
            cache.put(keys[j], arrays)
            for k in todo:
                if keys[k] == keys[j]:
                    found[k] = arrays
    elif progress is not None:
        progress(len(data), len(data), 0.0)
    return [_predictions(r, data, f["scores"], f.get("features"), k, _meta_of(f))
            for r, f, k in zip(resolved, found, keys)]


def _meta_array(meta: dict) -> np.ndarray:
    """A run's meta (precision, score conversion; not the sentences, which name the model) as
    bytes the array cache can hold."""
    return np.frombuffer(json.dumps({k: v for k, v in meta.items() if k != "warnings"}).encode(), dtype=np.uint8)


def _meta_of(arrays: dict[str, np.ndarray]) -> dict:
    """The run meta stored with cached scores ({} for entries written before it was stored)."""
    raw = arrays.get("run_meta")
    return json.loads(raw.tobytes().decode()) if raw is not None else {}



# ---- logged predictions: tables, predictions files, W&B runs ----------------------------------

@dataclass(frozen=True)
class TableSource:
    """Logged predictions: kind "file" (a `.table.json` file, a run_table artifact folder, or a
    CSV/Parquet file), "offline" (an offline run folder) or "wandb" (entity/project/run_id);
    key and version pick a run's table (None: its only table, latest version). digest, when
    known, is the content digest of that version, so cache keys follow content."""

    kind: str
    location: str
    key: str | None = None
    version: str | None = None
    mapping: ColumnMap = ColumnMap()
    label: str | None = None
    digest: str | None = None

    def display(self) -> str:
        """Short name for tables and captions."""
        return self.label or ":".join(p for p in (self.location, self.key, self.version) if p)


def parse_source(spec: str, arch: str | None = None, trust: bool = False) -> CheckpointSource | TableSource:
    """A CLI SRC: `wandb:ENTITY/PROJECT/RUN_ID[:KEY[:VERSION]]`, a `.csv`/`.parquet` file, a
    `.table.json` file, a folder holding `*.table.json`, an offline run folder, else a checkpoint."""
    if spec.startswith("wandb:"):
        parts = spec[len("wandb:"):].split(":")
        if len(parts) > 3 or not parts[0]:
            raise VersusError(f"{spec} is not wandb:ENTITY/PROJECT/RUN_ID[:TABLE_KEY[:VERSION]].")
        parts += [None] * (3 - len(parts))
        return TableSource("wandb", parts[0], parts[1] or None, parts[2] or None)
    p = Path(spec).expanduser()
    if p.is_dir() and any(p.glob("run-*.wandb")):
        return TableSource("offline", spec)
    if p.is_dir() or p.name.endswith(TABLE_SUFFIX) or p.suffix.lower() in FILE_SUFFIXES:
        return TableSource("file", spec)
    return CheckpointSource(spec, arch, trust)


def load_table_source(src: TableSource) -> Predictions:
    """Predictions of a table source (no model is run)."""
    if src.kind == "wandb":
        from core import wandb_api, wandb_source

        return wandb_source.load_run_table(wandb_api.connect(), src.location, src.key, src.version, src.mapping)
    if src.kind == "offline":
        from core.offline_run import load_offline_table

        return load_offline_table(src.location, src.key, src.version, src.mapping)
    if Path(src.location).suffix.lower() in FILE_SUFFIXES:
        return load_predictions_file(src.location, src.mapping)
    return load_table_file(src.location, src.mapping, src.key)


def load_sources(sources: list[CheckpointSource | TableSource], data: Callable[[], EvalData],
                 **evaluate_args: Any) -> tuple[list[Predictions], EvalData]:
    """Predictions of each source and the evaluation data they share. Checkpoints are
    evaluated together in one pass over data() (called only when there is a checkpoint);
    tables are loaded. Without checkpoints the data is the tables' own (table_data)."""
    ckpts = [s for s in sources if isinstance(s, CheckpointSource)]
    ev = data() if ckpts else None
    evaluated = iter(evaluate(ckpts, ev, **evaluate_args) if ckpts else [])
    preds = [next(evaluated) if isinstance(s, CheckpointSource) else load_table_source(s) for s in sources]
    return preds, shared_data(preds, ev)


def shared_data(preds: list[Predictions], data: EvalData | None) -> EvalData:
    """The data A and B are compared on: the checkpoints' data, its fingerprint extended by the
    content of any table side, or, with no checkpoint, the tables' own (table_data)."""
    if data is None:
        return table_data(preds)
    tables = "+".join(str(p.meta["table_sha256"]) for p in preds if "table_sha256" in p.meta)
    return replace(data, fingerprint=f"{data.fingerprint}+{tables}") if tables else data


def table_data(preds: list[Predictions]) -> EvalData:
    """The evaluation set of table sources: the first one's ids, truth, classes and images,
    fingerprinted by the content of every table."""
    first = preds[0]
    digest = "+".join(str(p.meta.get("table_sha256")) for p in preds)

    def image(i: int) -> np.ndarray:
        if first.samples is None:
            raise VersusError("This table holds no images.")
        return first.samples.image(i)

    return EvalData(f"table {first.meta.get('source', '')}", first.ids, first.truth,
                    list(first.class_names), image, f"tables:{digest}", None, 1)
