"""From source specs to Predictions: a registry of source kinds (one module each), models
evaluated here in one pass with an on-disk cache, logged predictions read."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from core import architectures as archs
from core.cache import ArrayCache, make_key
from core.datasets import EvalData
from core.errors import VersusError
from core.inference import Progress, pick_device, run_models
from core.predictions import Predictions
from core.preprocessing import Preprocessing
from core.sources.model import LoadedModel
from core.sources.naming import short_names
from core.sources.registry import KINDS, Kind, kind_named, recognize, register, url_fields
from core.sources.specs import CheckpointSource, PrepOverrides, TableSource
from core.tables import FILE_SUFFIXES, ColumnMap, load_predictions_file, load_table_file

CACHE_VERSION = 2

__all__ = [
    "CheckpointSource", "TableSource", "PrepOverrides", "Kind", "KINDS", "LoadedModel", "evaluate",
    "load_sources", "load_table_source", "parse_source", "resolve_model", "shared_data",
    "table_data", "short_names", "register", "recognize", "kind_named", "url_fields", "run_models",
]


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
    prep, origins = settle_preprocessing(loaded, data, over)
    warnings = list(loaded.extra.get("warnings") or []) + guessed_warnings(src.display(), prep, origins)
    identity = {"v": CACHE_VERSION, "model": loaded.identity, "data": data.fingerprint, "prep": prep.key()}
    return ResolvedModel(src, loaded, prep, origins, warnings, identity)


def settle_preprocessing(m: LoadedModel, data: EvalData, over: PrepOverrides) -> tuple[Preprocessing, dict[str, str]]:
    """Size, channels, mean/std from, in order: the user, the artifact, the architecture, and
    a guess (the data's default size; no normalization)."""
    rec, arch = m.recorded, m.arch_default
    origins: dict[str, str] = {}
    if over.size is not None:
        size, origins["size"] = over.size, "given"
    elif rec.size is not None:
        size, origins["size"] = rec.size, f"artifact ({rec.origin})"
    elif arch.size is not None:
        size, origins["size"] = arch.size, f"architecture ({arch.origin})"
    else:
        size, origins["size"] = data.default_size, "guessed (the data's default size)"
    model_channels = archs.first_conv_channels(m.module)
    if over.channels is not None:
        channels, origins["channels"] = over.channels, "given"
    elif rec.channels is not None:
        channels, origins["channels"] = rec.channels, f"artifact ({rec.origin})"
    elif model_channels is not None:
        channels, origins["channels"] = model_channels, "model (its first convolution)"
    else:
        channels, origins["channels"] = data.native_channels, "guessed (the data's channels)"
    if over.mean is not None or over.std is not None:
        mean, std, origins["normalization"] = over.mean, over.std, "given"
    elif rec.mean is not None or rec.normalized is False:
        mean, std, origins["normalization"] = rec.mean, rec.std, f"artifact ({rec.origin})"
    elif arch.mean is not None:
        mean, std, origins["normalization"] = arch.mean, arch.std, f"guessed ({arch.origin})"
    else:
        mean, std, origins["normalization"] = None, None, "guessed (none: nothing records one)"
    return Preprocessing(size=size, channels=channels, mean=mean, std=std), origins


def describe(prep: Preprocessing) -> str:
    """Preprocessing in words: "size 28x28, 1 channel, mean/std 0.5/0.5"."""
    size = f"size {prep.size[0]}x{prep.size[1]}" if prep.size else "native size"
    norm = (f"mean {','.join(f'{v:g}' for v in prep.mean)} std {','.join(f'{v:g}' for v in prep.std)}"
            if prep.mean is not None else "no normalization")
    return f"{size}, {prep.channels or 'native'} channel(s), {norm}"


def guessed_warnings(name: str, prep: Preprocessing, origins: dict[str, str]) -> list[str]:
    """One sentence when the size or normalization was guessed."""
    guessed = [part for part in ("size", "normalization") if origins.get(part, "").startswith("guessed")]
    if not guessed:
        return []
    flags = " ".join(f for part, f in (("size", "--size"), ("normalization", "--mean/--std"))
                     if part in guessed)
    verb = "were" if len(guessed) > 1 else "was"
    return [f"{name}: the {' and '.join(guessed)} of its preprocessing {verb} guessed, not read from "
            f"the file ({describe(prep)}); give {flags} if it was trained otherwise."]


def _predictions(r: ResolvedModel, data: EvalData, scores: np.ndarray, feats: np.ndarray | None,
                 key: str) -> Predictions:
    if scores.shape[1] != len(data.class_names):
        raise VersusError(
            f"{r.source.display()} outputs {scores.shape[1]} classes but the data has "
            f"{len(data.class_names)}."
        )
    m = r.loaded
    scores, note = align_classes(scores, m.extra.get("class_names"), data.class_names, r.source.display())
    meta = {"source": r.source.display(), "path": str(Path(r.source.path).expanduser().resolve()),
            "checkpoint_sha256": m.extra.get("checkpoint_sha256", m.identity), "epoch": m.epoch,
            "format": m.format, "arch": m.arch_label, "arch_note": m.arch_note,
            "preprocessing": {**r.prep.as_dict(), "from": dict(r.origins)}, "data": data.name,
            "content_key": key, "warnings": list(r.warnings) + ([note] if note else [])}
    return Predictions(data.ids, data.truth, scores, data.class_names, samples=data,
                       features=feats, meta=meta)


def align_classes(scores: np.ndarray, model_names: list[str] | None, data_names: list[str],
                  name: str) -> tuple[np.ndarray, str | None]:
    """Scores with columns in the data's class order when the model names its classes (HF
    id2label) in another order; a sentence when the names differ from the data's."""
    if not model_names or list(model_names) == list(data_names):
        return scores, None
    if sorted(model_names) == sorted(data_names) and len(set(model_names)) == len(model_names):
        order = [model_names.index(c) for c in data_names]
        return scores[:, order], (f"{name}: its classes are named in another order than the data's; "
                                  "the scores were reordered to the data's classes by name.")
    return scores, (f"{name}: its class names ({', '.join(model_names[:5])}...) differ from the data's "
                    f"({', '.join(data_names[:5])}...); classes were matched by position.")


def evaluate(
    sources: list[CheckpointSource],
    data: EvalData,
    over: PrepOverrides = PrepOverrides(),
    device: str = "auto",
    batch_size: int = 256,
    keep_features: bool = False,
    cache: ArrayCache | None = None,
    progress: Progress | None = None,
    probe: bool = True,
) -> list[Predictions]:
    """Predictions of each checkpoint on data; cached results are reused and the rest are
    computed together in one pass over the data. With probe, each model's preprocessing is
    also scored against a few candidates on a sample (core/probe.py), cached likewise."""
    if len(data) == 0:
        raise VersusError("The evaluation data holds no examples.")
    torch_device = pick_device(device)  # a bad device is an error even when every result is cached
    resolved = [resolve_model(s, data, over) for s in sources]
    cache = cache if cache is not None else ArrayCache()
    keys = [make_key({**r.identity, "features": keep_features}) for r in resolved]
    found = [cache.get(k) for k in keys]
    todo = [j for j, f in enumerate(found) if f is None or len(f["scores"]) != len(data)]
    # Same checkpoint, same identity: compute once.
    unique: dict[str, int] = {}
    for j in todo:
        unique.setdefault(keys[j], j)
    if unique:
        idx = list(unique.values())
        outs = run_models([resolved[j].module for j in idx], [resolved[j].prep for j in idx], data,
                          torch_device, batch_size, keep_features, progress)
        for j, out in zip(idx, outs):
            arrays = {"scores": out.scores}
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
            r.warnings += probe_warnings(r, data, torch_device, batch_size, cache)
    return [_predictions(r, data, f["scores"], f.get("features"), k) for r, f, k in zip(resolved, found, keys)]


def probe_warnings(r: ResolvedModel, data: EvalData, device: Any, batch_size: int,
                   cache: ArrayCache) -> list[str]:
    """The probe's sentence for one model (cached on the model, data and preprocessing)."""
    from core.probe import probe, probe_warning

    key = make_key({**r.identity, "probe": 1})
    hit = cache.get(key)
    if hit is not None:
        text = hit["warning"].tobytes().decode("utf-8")
    else:
        result = probe(r.module, r.prep, data, device, r.loaded.recorded.size, batch_size)
        text = probe_warning(r.source.display(), result) or ""
        cache.put(key, {"warning": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)})
    return [text] if text else []



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
