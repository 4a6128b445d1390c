"""Regressions: the verdict, flip rates, the slices where B regresses, per-class paired tests
and the embedding map; every slice, class and map selection opens its examples."""
import html
import numpy as np
import pandas as pd
import streamlit as st

from core.embedding import (POINT_LIMIT, STATUS_ORDER, density_frame, embed, in_view, map_status, point_frame,
                            rows_in_cell, spaces)
from core.embedding_chart import SELECT, density_chart, points_chart
from core.paired import class_rows, flip_rates
from core.regressions import IMAGE_STATS_ROWS, class_table, default_space, open_rows, regression_slices
from core.slices import slices_table
from core.thumbnails import thumbnail_urls
from core.verdict import plain_verdict
from ui import query
from ui.charts import kept_chart
from ui.grid import image_grid
from ui.state import require, summary_of

TOP_SLICES = 20
SHOW = 12
THUMB_POINTS = 600

current = require()
cmp = current.comparison
names = cmp.class_names


@st.cache_data(max_entries=8, show_spinner="Projecting the features to 2D...")
def _embedding(_cmp, key: str, space: str):
    return embed(_cmp, space)


@st.cache_data(max_entries=8, show_spinner="Looking for slices where B regresses...")
def _slices(_cmp, key: str, space: str, with_images: bool):
    return regression_slices(_cmp, _embedding(_cmp, key, space), with_images)


@st.cache_resource(max_entries=16, show_spinner=False)
def _map_view(_cmp, key: str, space: str, x_range: tuple, y_range: tuple, shown: tuple[str, ...]):
    """The rows in the zoom window with a shown status, and what the map draws of them: points
    (their frame) or, above POINT_LIMIT, density bins; kept per view so a rerun costs nothing."""
    emb, status = _embedding(_cmp, key, space), map_status(_cmp)
    rows = in_view(emb.xy, x_range, y_range, np.isin(status, shown))
    if len(rows) <= POINT_LIMIT:
        return rows, point_frame(emb.xy, status, rows, _cmp.ids), "points"
    return rows, density_frame(emb.xy, status, rows), "bins"


@st.cache_data(max_entries=8, show_spinner=False)
def _extent(_cmp, key: str, space: str) -> tuple[np.ndarray, np.ndarray]:
    """The map's low and high corner (a flat axis gets width 1), for the zoom sliders."""
    xy = _embedding(_cmp, key, space).xy
    lo, hi = xy.min(axis=0).astype(float), xy.max(axis=0).astype(float)
    return lo, np.where(hi - lo < 1e-6, lo + 1.0, hi)


def _examples(rows: np.ndarray, what: str) -> None:
    """The first examples of rows, regressed first, with truth and both guesses."""
    rows = open_rows(cmp, rows)
    st.markdown(f"**{what}**: {len(rows):,} examples (regressed first; showing {min(SHOW, len(rows))})")
    shown = rows[:SHOW]
    status = cmp.status_names()[shown]
    color = {"regressed": "#cf222e", "fixed": "#1a7f37"}
    captions = [f'<span style="color:{color.get(s, "inherit")}">'
                + html.escape(f"{cmp.ids[i]} · {names[cmp.truth[i]]}: A {names[cmp.guess_a[i]]}, "
                              f"B {names[cmp.guess_b[i]]}") + "</span>"
                for i, s in zip(shown, status)]
    image_grid(cmp.samples, shown, captions, px=72)
summary = summary_of(current)
st.title("Regressions")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples: where does B break "
           "what A got right?")
sentence, stats = plain_verdict(summary)
st.markdown(f"#### {sentence}")
st.caption(stats)

nfr, pfr = flip_rates(summary)
c = st.columns(4)
c[0].metric("Negative flip rate", f"{nfr:.2%}", help="Regressed / n: A right, B wrong (Yan et al., CVPR 2021).")
c[1].metric("Positive flip rate", f"{pfr:.2%}", help="Fixed / n: A wrong, B right.")
c[2].metric("Regressed", f"{summary['regressed']:,}")
c[3].metric("Fixed", f"{summary['fixed']:,}")

available = spaces(cmp)
query.defaults("regressions")
if st.session_state["rg_space"] not in available:  # e.g. a link naming features this source did not keep
    st.session_state["rg_space"] = default_space(cmp)
space = st.selectbox("Map and clusters from", list(available), format_func=available.get, key="rg_space")
big = cmp.n > IMAGE_STATS_ROWS and getattr(cmp.samples, "array", None) is None
with_images = cmp.samples is not None and (not big or st.checkbox(
    "Include image properties (reads every image once)", key="rg_images"))
emb = _embedding(cmp, current.key, space)
found = _slices(cmp, current.key, space, with_images)

st.subheader("Slices where B regresses")
significant = sum(s.significant for s in found)
st.caption(f"{len(found):,} candidate slices (true class, A's and B's confidence bins, "
           f"{'image properties, ' if with_images else ''}logged columns"
           f"{', map clusters' if space != 'scores' else '; no map clusters on a map of scores'}), each with McNemar's exact "
           f"mid-p test of fixed vs regressed inside it, Holm-adjusted over all of them; "
           f"**{significant} significantly worse** (Holm p < 0.05). Below, the slices where B breaks more than it "
           "fixes, ranked by regressed minus fixed; pick a row to open its examples.")
worse = [s for s in found if s.net > 0]
if not worse:
    st.success("No slice where B breaks more than it fixes.")
else:
    event = st.dataframe(slices_table(worse, TOP_SLICES), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="rg_slice_table",
                         column_config={"p-value": st.column_config.NumberColumn(format="%.2g"),
                                        "Holm p": st.column_config.NumberColumn(format="%.2g")})
    picked = event.selection.rows if event is not None else []
    if picked:
        s = worse[picked[0]]
        _examples(s.rows, f"{s.family} {s.name}")

st.subheader("Per class")
classes = class_table(class_rows(summary))
st.caption("Fixed and regressed per true class with McNemar's exact mid-p test, Holm-adjusted over the classes; "
           "worst first. Pick a row to open its examples.")
event = st.dataframe(classes, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                     key="rg_class_table",
                     column_config={"p_value": st.column_config.NumberColumn("p-value", format="%.2g"),
                                    "p_value_holm": st.column_config.NumberColumn("Holm p", format="%.2g")})
picked = event.selection.rows if event is not None else []
if picked:
    k = names.index(str(classes.iloc[picked[0]]["class"]))
    _examples(np.flatnonzero(cmp.truth == k), f"true class {names[k]}")

st.subheader("Embedding map")
st.caption(f"{available[space]}, reduced to 2D with PCA ({emb.explained:.0%} of the variance kept; UMAP is not "
           f"installed). Colored by status. Above {POINT_LIMIT:,} points the map shows density bins (share "
           "regressed) until a filter or zoom brings it under that; hover a point for its image, select a box "
           "or a bin to open its examples.")
c = st.columns(3)
shown_status = c[0].multiselect("Status", STATUS_ORDER, key="rg_status")
lo, hi = _extent(cmp, current.key, space)
x_range = c[1].slider("Zoom PC 1", float(lo[0]), float(hi[0]), (float(lo[0]), float(hi[0])), key=f"rg_x_{space}")
y_range = c[2].slider("Zoom PC 2", float(lo[1]), float(hi[1]), (float(lo[1]), float(hi[1])), key=f"rg_y_{space}")
rows, frame, mode = _map_view(cmp, current.key, space, x_range, y_range, tuple(shown_status))


def _map_chart():
    """The map's chart: the points (with thumbnails when few) or the density bins."""
    if mode == "bins":
        return density_chart(frame)
    thumbs = None
    if cmp.samples is not None and len(frame) <= THUMB_POINTS:
        thumbs = pd.Series(thumbnail_urls(cmp.samples, frame["row"].to_numpy(), 48)).fillna("")
    return points_chart(frame, thumbs)


st.caption(f"{len(rows):,} examples in view, drawn as {mode}.")
event = kept_chart((current.key, "map", space, x_range, y_range, tuple(shown_status)), _map_chart,
                   width="stretch", on_select="rerun", key=f"rg_map_{mode}")
pick = (event.selection.get(SELECT) if event is not None else None) or None
if pick:
    if mode == "points" and isinstance(pick, dict) and "x" in pick and "y" in pick:
        chosen = in_view(emb.xy, tuple(pick["x"]), tuple(pick["y"]), np.isin(np.arange(cmp.n), rows))
        _examples(chosen, "Selected on the map")
    elif mode == "bins" and isinstance(pick, list) and pick:
        cell = pick[0]
        _examples(rows_in_cell(emb.xy, rows, (cell["x"], cell["x2"], cell["y"], cell["y2"])), "Selected bin")
