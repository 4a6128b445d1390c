"""From source specs to Predictions: a registry of source kinds (one module each), models
evaluated here in one pass with an on-disk cache, logged predictions read."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from core.cache import ArrayCache, make_key
from core.datasets import EvalData
from core.errors import VersusError
from core.inference import InferenceOptions, Progress, pick_device, run_engine
from core.inference.features import feature_budget
from core.inference.runner import run_warnings
from core.predictions import Predictions
from core.preprocessing import Preprocessing
from core.sources.model import LoadedModel
from core.sources.naming import preprocessing_words, short_names, side_summary
from core.sources.registry import KINDS, Kind, recognize, register, url_fields
from core.sources.prep import align_classes, guessed_warnings, probe_warnings, settle_preprocessing
from core.tables import FILE_SUFFIXES, ColumnMap, load_predictions_file, load_table_file

CACHE_VERSION = 4  # 3: probabilities not softmaxed again, run meta stored; 4: meta counts tuple outputs

__all__ = [
    "CheckpointSource", "TableSource", "PrepOverrides", "Kind", "KINDS", "LoadedModel", "evaluate",
    "load_sources", "load_table_source", "parse_source", "resolve_model", "shared_data",
    "table_data", "short_names", "side_summary", "preprocessing_words", "register", "recognize", "url_fields", "run_engine",
]


@dataclass(frozen=True)
class CheckpointSource:
    """A model file or folder (checkpoint, Hugging Face folder, ONNX) and how to build it.
    trust allows full pickles and .py architectures; arch_named says the user named the
    architecture file on the command line (so importing it needs no trust box)."""

    path: str
    arch: str | None = None
    trust: bool = False
    label: str | None = None
    arch_named: bool = False

    def display(self) -> str:
        """Short name for tables and captions."""
        return self.label or self.path


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


@dataclass(frozen=True)
class PrepOverrides:
    """Preprocessing the user asked for; None fields are inferred."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None


@dataclass
class ResolvedModel:
    """A loaded model, its settled preprocessing (with where each part came from), warnings
    about guesses, and its cache identity."""

    source: CheckpointSource
    loaded: LoadedModel
    prep: Preprocessing
    origins: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> nn.Module:
        """The model to run."""
        return self.loaded.module


def model_kind(src: CheckpointSource) -> Kind:
    """The registered model kind of a model source's path."""
    kind = recognize(src.path)
    if kind.load is None:
        raise VersusError(f"{src.path} holds logged predictions, not a model.")
    return kind


def resolve_model(src: CheckpointSource, data: EvalData, over: PrepOverrides) -> ResolvedModel:
    """Load the model through its kind and settle its preprocessing, recording per part
    whether it was given, read from the artifact, or guessed."""
    loaded = model_kind(src).load(src)
    prep, origins = settle_preprocessing(loaded, data, over, src.display())
    warnings = list(loaded.extra.get("warnings") or []) + guessed_warnings(src.display(), prep, origins)
    identity = {"v": CACHE_VERSION, "model": loaded.identity, "data": data.fingerprint, "prep": prep.key()}
    return ResolvedModel(src, loaded, prep, origins, warnings, identity)


def _predictions(r: ResolvedModel, data: EvalData, scores: np.ndarray, feats: np.ndarray | None,
                 key: str, run_meta: dict | None = None) -> Predictions:
    if scores.shape[1] != len(data.class_names):
        raise VersusError(
            f"{r.source.display()} outputs {scores.shape[1]} classes but the data has "
            f"{len(data.class_names)}."
        )
    m = r.loaded
    scores, note = align_classes(scores, m.extra.get("class_names"), data.class_names, r.source.display())
    run_meta = {k: v for k, v in (run_meta or {}).items() if k != "warnings"}
    meta = {"source": r.source.display(), "path": str(Path(r.source.path).expanduser().resolve()),
            "checkpoint_sha256": m.extra.get("checkpoint_sha256", m.identity), "epoch": m.epoch,
            "format": m.format, "arch": m.arch_label, "arch_note": m.arch_note,
            "preprocessing": {**r.prep.as_dict(), "from": dict(r.origins)}, "data": data.name,
            "content_key": key, **run_meta}  # run_meta: precision, score_conversion (core/inference)
    meta["warnings"] = (list(data.warnings) + list(r.warnings) + ([note] if note else [])
                        + run_warnings(r.source.display(), run_meta))
    return Predictions(data.ids, data.truth, scores, data.class_names, samples=data,
                       features=feats, meta=meta)


def evaluate(
    sources: list[CheckpointSource],
    data: EvalData,
    over: PrepOverrides = PrepOverrides(),
    device: str = "auto",
    batch_size: int | None = None,
    keep_features: bool = True,
    cache: ArrayCache | None = None,
    progress: Progress | None = None,
    probe: bool = True,
    options: InferenceOptions = InferenceOptions(),
) -> list[Predictions]:
    """Predictions of each checkpoint on data; cached results are reused and the rest are
    computed together in one pass over the data (on the engine options name). With probe, each
    model's preprocessing is also scored against a few candidates on a sample (core/probe.py),
    cached likewise."""
    if len(data) == 0:
        raise VersusError("The evaluation data holds no examples.")
    torch_device = pick_device(device)  # a bad device is an error even when every result is cached
    resolved = [resolve_model(s, data, over) for s in sources]
    cache = cache if cache is not None else ArrayCache()
    features = [keep_features, feature_budget()] if keep_features else False  # the budget decides what is kept
    keys = [make_key({**r.identity, **options.cache_identity(), "features": features}) for r in resolved]
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
    if probe:
        for r in resolved:
            r.warnings += probe_warnings(r, data, torch_device, batch_size or 64, cache)
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


# ---- specs to sources, through the registry -------------------------------------------------

def parse_source(spec: str, arch: str | None = None, trust: bool = False,
                 arch_named: bool = False) -> CheckpointSource | TableSource:
    """A CLI SRC through the registry of kinds (see core/sources/*): a W&B run, an offline run
    folder or `.wandb` file with optional `:KEY[:VERSION]`, a table file or folder, a CSV/Parquet
    file, a Hugging Face folder, an `.onnx` file, or a checkpoint. arch_named: the
    architecture was named on the command line (a .py file then imports without trust)."""
    src = recognize(spec).make(spec, arch, trust)
    if arch_named and isinstance(src, CheckpointSource):
        src = replace(src, arch_named=True)
    return src


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


# Register the kinds, most specific first (a module per kind; recognition tries them in order).
from core.sources import tables_kind, hf, onnx, checkpoint  # noqa: E402,F401  isort: skip
