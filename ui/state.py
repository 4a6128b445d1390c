"""The current Comparison: computed from the sidebar settings, shared by every page."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.cache import change_mark, file_sha256, make_key
from core.comparison import Comparison, IdMismatch
from core.datasets import EvalData, load_data, parse_data
from core.evaluation import warm
from core.errors import VersusError
from core.predictions import Predictions
from core.progress import progress_text
from core.run_options import InferenceOptions
from core.sources import CheckpointSource, TableSource, evaluate, load_table_source, shared_data
from core.sources.naming import add_side_notes
from core.sources.registry import recognize
from core.summary import summarize
from ui.lru import BoundedLRU
from ui.sidebar import Settings

KEY = "versus_comparison"
TOLD = "_versus_told"


@dataclass
class Current:
    """What pages read: the comparison and the labels of its two sides."""

    comparison: Comparison
    label_a: str
    label_b: str
    data: EvalData
    key: str  # content identity of the comparison (checkpoints, tables, data, preprocessing)
    settings: Settings  # the sidebar's choices it was computed with (the Series page reuses them)


@st.cache_resource
def _predictions_cache() -> BoundedLRU:
    """Predictions pairs shared by every session of this server (bounded)."""
    return BoundedLRU(max_entries=16)


@st.cache_resource
def _data_cache() -> BoundedLRU:
    """Loaded evaluation sets shared by every session of this server (bounded)."""
    return BoundedLRU(max_entries=4)


def _stamp(path: str) -> tuple:
    """Change marker of a file or folder, read on every rerun instead of hashing gigabytes: it
    decides whether to ask core again, and core's disk cache and the comparison key on content."""
    p = Path(path).expanduser()
    try:
        st_ = p.stat()
    except OSError:
        return (path,)
    marks = [(str(p), *change_mark(st_))]
    if p.is_dir():  # the entries right inside: a table file rewritten in place, a class folder
        marks += [(c.name, *change_mark(c.stat())) for c in sorted(p.iterdir())]
    return tuple(marks)


@st.cache_resource
def _identities() -> dict[tuple, str]:
    """Content identities already computed, by the change marker they were computed at."""
    return {}


def _content(path: str) -> tuple:
    """Content identity of a source path: its kind's content hash (a file's sha256, a Hugging
    Face folder's weights and config), computed once per change marker so a rerun costs a stat;
    the change marker itself for a folder no kind hashes (an offline run)."""
    p = Path(path).expanduser()
    try:
        if p.is_file():
            return ("sha256", file_sha256(p))
        try:
            kind = recognize(path)
        except VersusError:  # no kind reads it: loading it will say so
            kind = None
        stamp = _stamp(path)
        if kind is None or kind.identity is None:
            return stamp
        memo = _identities()
        if (kind.name, stamp) not in memo:
            memo[(kind.name, stamp)] = kind.identity(path)
        return (kind.name, memo[(kind.name, stamp)])
    except OSError:  # unreadable: loading it will say why, in one sentence
        return (path,)


def _arch_content(src: CheckpointSource) -> tuple:
    """Content of an architecture given as a .py file (its edits change the model)."""
    path = (src.arch or "").split(".py:", 1)[0] + ".py" if ".py:" in (src.arch or "") else ""
    return _content(path) if path and Path(path).expanduser().is_file() else ()


def _model_key(src: CheckpointSource) -> tuple:
    """The source (its path and label name the predictions) with its content and its
    architecture file's: the key changes exactly when what the model computes can."""
    return (src, _content(src.path), _arch_content(src))


def _data(spec: str, options: InferenceOptions) -> EvalData:
    _, path = parse_data(spec)

    def read() -> EvalData:
        with st.spinner(f"Reading {spec}..."):
            return load_data(spec, options.max_pixels, options.skip_bad_images)

    return _data_cache().get_or_make((spec, _stamp(path) if path else (), options.skip_bad_images, options.max_pixels),
                                     read)


def _pair(s: Settings, data: EvalData) -> tuple[Predictions, Predictions]:
    def infer() -> tuple[Predictions, Predictions]:
        bar = st.empty()

        def progress(done: int, total: int, rate: float) -> None:
            bar.progress(done / max(total, 1), text=f"Inference: {progress_text(done, total, rate)}")

        try:
            return tuple(evaluate([s.a, s.b], data, s.over, s.device, s.batch_size, progress=progress,
                                  options=s.options))
        finally:
            bar.empty()

    key = (_model_key(s.a), _model_key(s.b), data.fingerprint, s.over, s.device, s.options)
    return _predictions_cache().get_or_make(key, infer)


def _table(src: TableSource) -> Predictions:
    """A table source's Predictions; keyed by the source (a W&B version is immutable; its
    digest is part of the source) and, for local files, their content."""
    def load() -> Predictions:
        with st.spinner(f"Loading {src.display()}..."):
            return load_table_source(src)

    key = ("table", src, _content(src.location) if src.kind != "wandb" else ())
    return _predictions_cache().get_or_make(key, load)


def _checkpoint(src: CheckpointSource, s: Settings, data: EvalData) -> Predictions:
    def infer() -> Predictions:
        with st.spinner(f"Inference: {src.display()}..."):
            return evaluate([src], data, s.over, s.device, s.batch_size, options=s.options)[0]

    key = ("checkpoint", _model_key(src), data.fingerprint, s.over, s.device, s.options)
    return _predictions_cache().get_or_make(key, infer)


def _with_tables(s: Settings) -> tuple[Predictions, Predictions, EvalData]:
    """A and B when at least one side is a table; the data is the checkpoint side's (its
    fingerprint extended by the table's content) or the tables' own."""
    sides = (s.a, s.b)
    data = _data(s.data, s.options) if any(isinstance(x, CheckpointSource) for x in sides) else None
    pa, pb = (_checkpoint(x, s, data) if isinstance(x, CheckpointSource) else _table(x) for x in sides)
    return pa, pb, shared_data([pa, pb], data)


DEMO_A = "epoch_2.pt"  # epoch 1's scores are all 13-19%: its bars would be invisible beside epoch 5's


def demo_pairing() -> None:
    """On a fresh session without a link naming A, open the demo on epoch 2 vs epoch 5 (the
    sidebar then falls back to the folder's first file wherever epoch_2.pt is absent)."""
    if "a_folder" not in st.session_state and "a_ckpt" not in st.session_state:
        st.session_state["a_ckpt"] = DEMO_A


@st.cache_resource(max_entries=8, show_spinner="Aligning A and B...")
def _comparison(key: str, _pa: Predictions, _pb: Predictions, intersect: bool) -> Comparison:
    """The Comparison of A and B, shared by every session, keyed on their content identity.
    A background thread then computes its Evaluation and curves while the first page is read,
    so the first visit to Curves does not wait for them."""
    cmp = Comparison.build(_pa, _pb, intersect=intersect)
    threading.Thread(target=warm, args=(cmp,), name="versus-warm", daemon=True).start()
    return cmp


def _warnings(pa: Predictions, pb: Predictions) -> None:
    """Every warning either side carries (guessed preprocessing, the probe, near chance), in one box."""
    found = list(dict.fromkeys(w for p in (pa, pb) for w in p.meta.get("warnings") or []))
    if found:
        st.warning("\n".join(f"- {w}" for w in found))


def update(settings: Settings | None) -> Current | None:
    """Compute (or fetch) the comparison for the settings; show one st.error on a user mistake."""
    st.session_state.pop(KEY, None)
    # Whether the main area already says why there is no comparison (require() then stays quiet).
    st.session_state[TOLD] = settings is not None
    if settings is None:
        return None
    if settings.a is None or settings.b is None:
        st.info("Choose a source for Model A and Model B in the sidebar.")
        return None
    has_table = isinstance(settings.a, TableSource) or isinstance(settings.b, TableSource)
    if not settings.data and not (isinstance(settings.a, TableSource) and isinstance(settings.b, TableSource)):
        st.info("Give the folder of the evaluation data in the sidebar.")
        return None
    try:
        if has_table:
            pa, pb, data = _with_tables(settings)
        else:
            data = _data(settings.data, settings.options)
            pa, pb = _pair(settings, data)
        pa, pb = add_side_notes(pa, pb)
        _warnings(pa, pb)
        if data.skipped:
            files = "file that is not an image" if len(data.skipped) == 1 else "files that are not images"
            st.warning(f"Skipped {len(data.skipped)} {files}: "
                       f"{', '.join(data.skipped[:3])}{' ...' if len(data.skipped) > 3 else ''}")
        intersect = st.session_state.get("intersect", False)
        if intersect:  # drawn on every run while on, or Streamlit would forget the ticked box
            st.checkbox("Compare on the intersection", key="intersect")
        key = make_key({"a": pa.meta, "b": pb.meta, "data": data.fingerprint, "intersect": intersect})
        try:
            cmp = _comparison(key, pa, pb, intersect)
        except IdMismatch as exc:
            st.error(str(exc))
            st.checkbox("Compare on the intersection", key="intersect")
            return None
        if cmp.intersect_note():
            st.warning(cmp.intersect_note())
    except VersusError as exc:
        st.error(_with_labels(str(exc), settings))
        return None
    except MemoryError:
        st.error("Out of memory while evaluating; lower the batch size or use a smaller dataset.")
        return None
    current = Current(cmp, settings.a.display(), settings.b.display(), data, key, settings)
    st.session_state[KEY] = current
    return current


def _with_labels(message: str, settings: Settings) -> str:
    """The message with each side's internal path (an upload's cache copy) shown as its label."""
    for src in (settings.a, settings.b):
        path = getattr(src, "path", None)
        if path and src.label and path != src.label:
            message = message.replace(path, src.label)
    return message


@st.cache_data(max_entries=32, show_spinner=False)
def _summary(_cmp: Comparison, key: str, label_a: str, label_b: str, data: str) -> dict:
    return summarize(_cmp, label_a, label_b, data=data)


def summary_of(current: Current) -> dict:
    """The summary.json dict of the current comparison (kept per content and labels; the
    Overview and Regressions share it)."""
    return _summary(current.comparison, current.key, current.label_a, current.label_b, current.data.name)


def require() -> Current:
    """The current comparison for a page; stops the page with a hint when there is none."""
    current = st.session_state.get(KEY)
    if current is None:
        if not st.session_state.get(TOLD):
            st.info("No comparison yet: fix the sources in the sidebar.")
        st.stop()
    return current

