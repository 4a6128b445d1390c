"""Streamlit glue of the epoch series: the cached series of a folder or RUN:KEY, setting A and B
from two of its checkpoints, and the dynamics filter other pages (Examples, Errors) can offer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.cache import change_mark
from core.datasets import EvalData
from core.errors import VersusError
from core.predictions import compact_ids
from core.progress import progress_text
from core.series import DYNAMICS_FILTERS, Series, dynamics_mask, path_string
from core.series_source import SeriesSpec, load_series, parse_series
from ui.lru import BoundedLRU
from ui.sidebar import Settings

CURRENT = "_series_current"  # the last series the Series page showed: (spec, Series)
SOURCE_KEY = "series_source"


def default_source() -> str:
    """A's epoch folder, or A's offline run and table, when A comes from one; else ''."""
    ss = st.session_state
    if ss.get("a_kind", "Epoch folder") == "Epoch folder" and ss.get("a_folder"):
        return str(ss["a_folder"])
    if ss.get("a_kind") == "W&B run" and ss.get("a_wb_where") == "Offline run folder" and ss.get("a_wb_offline"):
        return f"{ss['a_wb_offline']}:{ss.get('a_wb_key', '')}".rstrip(":")
    return ""


def _stamp(spec: SeriesSpec) -> tuple:
    """Change marker of the series' files, read on every rerun (the disk cache keys on content)."""
    paths = list(spec.paths) if spec.kind == "checkpoints" else ([spec.run] if spec.kind == "offline" else [])
    marks = []
    for p in paths:
        path = Path(p).expanduser()
        files = sorted(path.glob("run-*.wandb")) if spec.kind == "offline" else [path]
        for f in files:
            try:
                marks.append((str(f), *change_mark(f.stat())))
            except OSError:
                marks.append((str(f),))
    return tuple(marks)


@st.cache_resource
def _series_cache() -> BoundedLRU:
    """Compact series shared by every session of this server (bounded)."""
    return BoundedLRU(max_entries=4)


def _compute(spec: SeriesSpec, data_: EvalData | None, settings: Settings, skip_bad: bool) -> Series:
    """Evaluate the series with a progress bar, with the sidebar's preprocessing, device and engine."""
    bar = st.progress(0.0, text="Evaluating the series...")

    def progress(done: int, total: int, rate: float) -> None:
        bar.progress(done / max(total, 1), text=f"Series inference: {progress_text(done, total, rate)}")

    def data() -> EvalData:
        if data_ is None:
            raise VersusError("A checkpoint series needs evaluation data: choose it in the sidebar.")
        return data_

    try:
        args: dict[str, Any] = {"over": settings.over, "device": settings.device, "batch_size": settings.batch_size,
                                "options": settings.options, "progress": progress}
        return load_series(spec, data, skip_bad=skip_bad, **(args if spec.kind == "checkpoints" else {}))
    finally:
        bar.empty()


def load(text: str, data: EvalData | None, settings: Settings, skip_bad: bool) -> tuple[SeriesSpec, Series]:
    """The series of a folder or RUN:KEY typed on the page (cached; errors are VersusError)."""
    spec = parse_series(folder=text)
    fp = data.fingerprint if data is not None and spec.kind == "checkpoints" else None
    key = (spec, _stamp(spec), fp, settings.over, settings.device, settings.batch_size, settings.options, skip_bad)
    data = data if spec.kind == "checkpoints" else None
    series = _series_cache().get_or_make(key, lambda: _compute(spec, data, settings, skip_bad))
    st.session_state[CURRENT] = (spec, series)
    return spec, series


def side_state(spec: SeriesSpec, series: Series, t: int, side: str) -> dict[str, Any]:
    """The sidebar's session keys that make `side` ("a" or "b") checkpoint t of the series."""
    ck = series.checkpoints[t]
    if spec.kind == "checkpoints":
        if not spec.ordered:
            raise VersusError("Only a folder series can set A and B.")
        return {f"{side}_kind": "Epoch folder", f"{side}_folder": str(Path(spec.paths[0]).parent),
                f"{side}_ckpt": ck.source}
    key, version = ck.source.rsplit(":", 1)
    out: dict[str, Any] = {f"{side}_kind": "W&B run", f"{side}_wb_key": key, f"{side}_wb_version": version}
    if spec.kind == "offline":
        return {**out, f"{side}_wb_where": "Offline run folder", f"{side}_wb_offline": spec.run}
    entity_project = str(spec.run).rsplit("/", 1)[0]
    return {**out, f"{side}_wb_where": "W&B cloud", f"{side}_wb_project": entity_project,
            f"{side}_wb_run": spec.run, f"{side}_wb_what": "Prediction table"}


def set_sides(a_t: int, b_t: int) -> None:
    """Make A and B checkpoints a_t and b_t of the current series (call from a widget callback,
    before the sidebar draws)."""
    spec, series = st.session_state[CURRENT]
    try:
        st.session_state.update({**side_state(spec, series, a_t, "a"), **side_state(spec, series, b_t, "b")})
        st.session_state["_series_set"] = (a_t, b_t)
    except VersusError as exc:
        st.session_state["_series_set_error"] = str(exc)


def picked_points(selection: Any) -> list[int]:
    """Checkpoint indices selected in the metrics chart (Streamlit's selection state)."""
    try:
        points = selection["selection"]["pick"]
    except (KeyError, TypeError):
        return []
    return sorted({int(p["t"]) for p in points if isinstance(p, dict) and "t" in p})


def on_chart_select(chart_key: str) -> None:
    """Callback of the metrics chart: two points picked set A (earlier) and B (later)."""
    picked = picked_points(st.session_state.get(chart_key))
    if len(picked) == 2:
        set_sides(picked[0], picked[1])


def _positions(series: Series, ids: np.ndarray) -> np.ndarray | None:
    """Where each of ids (a comparison's rows) sits in the series, or None when the series does
    not hold every one; kept on the series for the last ids array asked about (the views ask on
    every rerun with the same array)."""
    held = series.__dict__.get("_positions")
    if held is None or held[0] is not ids:
        pos = pd.Index(series.ids).get_indexer(compact_ids(ids))
        held = series.__dict__["_positions"] = (ids, None if (pos < 0).any() else pos)
    return held[1]


def aligned_mask(series: Series, ids: np.ndarray, name: str) -> np.ndarray | None:
    """The dynamics filter `name` as a mask over ids (a comparison's rows), or None when the
    series does not hold every one of those ids."""
    pos = _positions(series, ids)
    return None if pos is None else dynamics_mask(series.dynamics(), name)[pos]


def paths_of(ids: np.ndarray, rows: np.ndarray) -> list[str] | None:
    """The right/wrong path of each of rows (of a comparison whose ids are ids) over the
    checkpoints of the series the Series page loaded (✓ right, ✗ wrong, one mark per
    checkpoint), or None when no series covers these ids."""
    current = st.session_state.get(CURRENT)
    pos = None if current is None else _positions(current[1], ids)
    if pos is None:
        return None
    correct = current[1].dynamics().correct
    return [path_string(correct[:, p]) for p in pos[rows]]


def dynamics_filter(ids: np.ndarray, key: str) -> np.ndarray | None:
    """A "Training dynamics" selectbox, shown when the Series page loaded a series over these
    examples; the mask of the rows it keeps, or None (no series, or "all")."""
    current = st.session_state.get(CURRENT)
    if current is None or _positions(current[1], ids) is None:
        return None
    name = st.selectbox("Training dynamics (Series page)", list(DYNAMICS_FILTERS),
                        format_func=DYNAMICS_FILTERS.get, key=key)
    return None if name == "all" else aligned_mask(current[1], ids, name)


def checkpoint_history(data: EvalData, settings: Settings) -> bool:
    """History for checkpoints: metrics per checkpoint of A's (or B's) epoch folder, A and B
    marked. False when neither side comes from an epoch folder."""
    from core import series_charts as sc

    ss = st.session_state
    folder = next((ss.get(f"{s}_folder") for s in ("a", "b")
                   if ss.get(f"{s}_kind", "Epoch folder") == "Epoch folder" and ss.get(f"{s}_folder")), None)
    if not folder:
        return False
    try:
        _, series = load(str(folder), data, settings, skip_bad=True)
    except VersusError as exc:
        st.error(str(exc))
        return True
    for w in series.warnings:
        st.warning(w)
    names = [ck.source for ck in series.checkpoints]
    marks = pd.DataFrame([(side.upper(), names.index(ss[f"{side}_ckpt"])) for side in ("a", "b")
                          if ss.get(f"{side}_folder") == folder and ss.get(f"{side}_ckpt") in names],
                         columns=["side", "t"])
    st.caption(f"Every checkpoint of {folder} evaluated on the current data; dashed lines mark A and B. "
               "The Series page shows per-class accuracy and per-example dynamics.")
    st.altair_chart(sc.marked_metrics_chart(sc.metrics_frame(series), marks), width="content")
    return True
