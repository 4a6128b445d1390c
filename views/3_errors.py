"""Errors: guess != truth for A and for B side by side, with the same filters on both sides.

The interactive part is one fragment: a filter or page change reruns only it."""
from html import escape

import pandas as pd
import streamlit as st

from core.comparison import page_count, page_of
from ui import query
from ui.series import dynamics_filter as series_filter
from ui.series import paths_of
from ui.grid import image_grid, mark
from ui.state import require

PER_PAGE = 24
OTHER_LABELS = {"any": "either way", "right": "right", "wrong": "wrong too"}

current = require()
cmp = current.comparison
names = cmp.class_names
index = {name: k for k, name in enumerate(names)}
query.defaults("errors")
for key in ("er_truth", "er_guess"):
    query.keep_known(key, names)

st.title("Errors")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b}: the examples each model gets wrong, "
           "with the same filters on both sides.")


def _side(side: str, label: str, rows, page: int) -> None:
    """One model's errors on this page as an image grid (caption: truth → guess (confidence) · other)."""
    other_side, mine = ("B", "A") if side == "a" else ("A", "B")
    st.markdown(f"**{mine}** · {label}: **{len(rows):,} errors**")
    visible = page_of(rows, page, PER_PAGE)
    if not len(rows):
        st.info(f"{mine} makes no error that passes these filters.")
        return
    if not len(visible):
        st.caption(f"No more errors of {mine} on this page.")
        return
    guesses, confs = cmp.guess(side)[visible], cmp.confidence(side)[visible]
    other_right = cmp.guess("b" if side == "a" else "a")[visible] == cmp.truth[visible]
    captions = [f"{escape(names[t])} → {escape(names[g])} ({p:.0%}) · {other_side} {mark(bool(r))}"
                for t, g, p, r in zip(cmp.truth[visible], guesses, confs, other_right)]
    if (paths := paths_of(cmp.ids, visible)) is not None:  # a series loaded on the Series page
        captions = [f"{c} · {path}" for c, path in zip(captions, paths)]
    image_grid(cmp.samples, visible, captions)


@st.fragment
def _errors() -> None:
    """Filters, counts, paging and both grids; reruns alone on any of its widgets."""
    with st.container(border=True):
        c = st.columns(4)
        truth = c[0].multiselect("True class", names, key="er_truth", placeholder="any (type to search)")
        guess = c[1].multiselect("Guessed class", names, key="er_guess", placeholder="any (type to search)")
        conf = c[2].slider("Confidence of the guess", 0.0, 1.0, step=0.01, key="er_conf")
        other = c[3].selectbox("The other model is", list(OTHER_LABELS), format_func=OTHER_LABELS.get,
                               key="er_other")
    filters = (tuple(index[n] for n in truth), tuple(index[n] for n in guess), tuple(conf), other)
    rows = {side: cmp.errors(side, *filters) for side in ("a", "b")}
    if (keep := series_filter(cmp.ids, "er_dynamics")) is not None:  # a series loaded on the Series page
        rows = {side: r[keep[r]] for side, r in rows.items()}
    pages = page_count(max(len(rows["a"]), len(rows["b"])), PER_PAGE)
    query.clamp_page("er_page", pages, filters)

    st.markdown(f"## {len(rows['a']):,} errors  vs  {len(rows['b']):,} errors")
    c = st.columns([2, 1, 1], vertical_alignment="bottom")
    c[0].caption(f"of {cmp.n:,} examples; caption: truth → guess (confidence) · the other model's "
                 "result (✓ right, ✗ wrong)")
    c[1].number_input(f"Page (of {pages:,})", 1, pages, key="er_page")

    def _csv() -> str:
        """Both sides' filtered errors, one row per (model, example)."""
        return pd.concat([cmp.table(rows[s]).assign(model=s.upper()) for s in ("a", "b")],
                         ignore_index=True).to_csv(index=False)

    c[2].download_button("Download CSV", data=_csv, file_name="errors.csv", mime="text/csv", on_click="ignore",
                         disabled=not (len(rows["a"]) or len(rows["b"])))
    page = st.session_state["er_page"]
    for col, side, label in zip(st.columns(2, border=True), ("a", "b"), (current.label_a, current.label_b)):
        with col:
            _side(side, label, rows[side], page)
    query.sync("errors")


_errors()
