"""Confusion: A's and B's confusion matrices, the change B - A, and the examples behind any cell.

Above MANY_CLASSES classes the page shows the most-confused pairs and a submatrix of the classes
you pick instead of full C x C charts. The interactive part is one fragment."""
from html import escape

import numpy as np
import pandas as pd
import streamlit as st

from core.cells import CellIndex, drill
from core.eval_charts import CELL_SELECTION, confusion_heatmap, difference_heatmap
from core.evaluation import evaluation_of
from core.confusion import DENSE_UP_TO as MANY_CLASSES, PAIR_COLUMNS, PAIR_ORDERS, involved_classes, submatrix
from ui import query
from ui.charts import kept_chart
from ui.grid import image_grid
from ui.state import require

SHOWN_IMAGES = 30
SHOWN_IDS = 10_000
SHOWN_PAIRS = 100
SUBMATRIX_CLASSES = 12

current = require()
cmp = current.comparison
names = cmp.class_names
c = len(names)
many = c > MANY_CLASSES
query.defaults("confusion")
query.keep_known("cf_classes", names)


@st.cache_resource(max_entries=4, show_spinner=False)
def _cell_indexes(_cmp, key: str) -> tuple[CellIndex, CellIndex]:
    """The rows behind every cell of A and B (read-only, shared by reruns)."""
    k = len(_cmp.class_names)
    return CellIndex.build(_cmp.truth, _cmp.guess_a, k), CellIndex.build(_cmp.truth, _cmp.guess_b, k)


evaluation = evaluation_of(cmp)  # the comparison's one result: its matrices are the Overview's and the report's
cm_a, cm_b = evaluation.a.confusion, evaluation.b.confusion
if st.session_state.get("cell_truth") not in names or st.session_state.get("cell_guess") not in names:
    top = evaluation.pairs(1, "count")
    t0, g0 = (int(top["truth_index"][0]), int(top["guess_index"][0])) if len(top) else (0, 0)
    st.session_state["cell_truth"], st.session_state["cell_guess"] = names[t0], names[g0]

st.title("Confusion")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples. "
           "Rows are the true class, columns the guess. Click a cell, or choose it below, to see its examples.")


def _take_click(event, key: str) -> None:
    """Move the chosen cell to a newly clicked one (a selection seen before changes nothing)."""
    points = event.selection.get(CELL_SELECTION) or []
    click = (points[0].get("truth"), points[0].get("guess")) if points else None
    seen = f"_confusion_click_{key}"
    if click != st.session_state.get(seen) and click and click[0] in names and click[1] in names:
        st.session_state["cell_truth"], st.session_state["cell_guess"] = click
    st.session_state[seen] = click


def _heatmaps(classes: list[int], normalized: bool) -> None:
    """A's and B's matrices and the change over the given classes, each clickable."""
    sub = [names[k] for k in classes]
    sa, sb = submatrix(cm_a, classes), submatrix(cm_b, classes)
    left, right = st.columns(2)
    for col, m, side in ((left, sa, "A"), (right, sb, "B")):
        with col:
            _take_click(kept_chart((current.key, "confusion", side, tuple(classes), normalized),
                                   lambda m=m, side=side: confusion_heatmap(m, sub, normalized, side),
                                   key=f"confusion_{side}", on_select="rerun", selection_mode=CELL_SELECTION), side)
    left, right = st.columns(2)
    with left:
        _take_click(kept_chart((current.key, "confusion", "change", tuple(classes), normalized),
                               lambda: difference_heatmap(sa, sb, sub, normalized, "B - A", selectable=True), key="confusion_change",
                               on_select="rerun", selection_mode=CELL_SELECTION), "change")
    with right:
        st.markdown("**B - A**: each cell is B's count minus A's"
                    + (" (as shares of the true class)" if normalized else "")
                    + ". :green[Green] where B is better (more right on the diagonal, fewer confusions off it), "
                      ":red[red] where B is worse, white where they agree.")
        if many:
            st.caption("Shares are of each true class's examples guessed as one of the picked classes."
                       if normalized else "Counts over the whole set; only the picked classes are drawn.")


def _pairs_table() -> None:
    """The most-confused pairs, sortable; selecting one opens its examples."""
    order = st.selectbox("Order pairs by", list(PAIR_ORDERS), format_func=PAIR_ORDERS.get, key="cf_order")
    pairs = evaluation.pairs(SHOWN_PAIRS, order).rename(columns=PAIR_COLUMNS)
    label = PAIR_ORDERS[order]
    st.markdown(f"**The {len(pairs)} {label[0].lower()}{label[1:]} pairs** (truth taken for guess; "
                "select a row to see its examples)")
    picked = st.dataframe(pairs.drop(columns=["truth_index", "guess_index"]), hide_index=True, width="stretch",
                          height=320, on_select="rerun", selection_mode="single-row", key=f"cf_pairs_{order}")
    rows = picked.selection.rows
    seen = st.session_state.get("_cf_pairs_seen")
    if rows and (order, rows) != seen:
        st.session_state["cell_truth"] = pairs["truth"].iloc[rows[0]]
        st.session_state["cell_guess"] = pairs["guess"].iloc[rows[0]]
    st.session_state["_cf_pairs_seen"] = (order, rows)
    if not st.session_state["cf_classes"]:
        st.session_state["cf_classes"] = [names[k] for k in involved_classes(pairs, SUBMATRIX_CLASSES)]


def _examples(normalized: bool) -> None:
    """The examples behind the chosen cell: in A's cell, in B's, and the flips between them."""
    t, g = names.index(st.session_state["cell_truth"]), names.index(st.session_state["cell_guess"])
    index_a, index_b = _cell_indexes(cmp, current.key)
    cell = drill(index_a, index_b, cmp.guess_a, cmp.guess_b, t, g)
    where = f"truth {names[t]}, guess {names[g]}"
    views = {
        f"In A's cell ({len(cell.in_a):,})": cell.in_a,
        f"In B's cell ({len(cell.in_b):,})": cell.in_b,
        f"Moved in: A guessed otherwise ({len(cell.moved_in):,})": cell.moved_in,
        f"Moved out: B guesses otherwise ({len(cell.moved_out):,})": cell.moved_out,
    }
    st.subheader(f"Examples: {where}")
    if t == g:
        st.caption("On the diagonal, *moved in* are the errors B fixes and *moved out* the errors B introduces.")
    label = st.radio("Which examples", list(views), horizontal=True, label_visibility="collapsed")
    rows = views[label]
    if len(rows) == 0:
        st.info(f"No examples in this view of the cell {where}.")
        return
    shown = rows[:SHOWN_IMAGES]
    if len(rows) > len(shown):
        st.caption(f"Showing the first {len(shown)} of {len(rows):,}; every id is in the table below.")
    captions = [f"{escape(str(cmp.ids[i]))} · A {escape(names[cmp.guess_a[i]])} · B {escape(names[cmp.guess_b[i]])}"
                for i in shown]
    if cmp.samples is None:
        st.info("These predictions come without images; the ids are in the table below.")
    else:
        image_grid(cmp.samples, shown, captions)
    listed = rows[:SHOWN_IDS]
    with st.expander(f"Ids ({len(rows):,})"):
        array = np.asarray(names, dtype=object)
        st.dataframe(pd.DataFrame({
            "id": cmp.ids[listed].astype(object), "truth": array[cmp.truth[listed]],
            "A guess": array[cmp.guess_a[listed]], "B guess": array[cmp.guess_b[listed]],
        }), hide_index=True, width="stretch")
        if len(rows) > len(listed):
            st.caption(f"The first {len(listed):,} of {len(rows):,}.")


@st.fragment
def _confusion() -> None:
    """The switch, the pairs (many classes), the matrices, the cell pickers and its examples."""
    normalized = st.toggle("Share of each true class (row-normalized)", key="confusion_toggle",
                           value=bool(st.session_state.get("cf_norm", False)))
    st.session_state["cf_norm"] = normalized
    if many:
        _pairs_table()
        classes = st.multiselect("Classes in the matrices", names, key="cf_classes", max_selections=30,
                                 help="Type to search; at most 30 classes. Starts with the classes of the top pairs.")
        picked = [names.index(n) for n in classes] or involved_classes(
            evaluation.pairs(SUBMATRIX_CLASSES, "count"), SUBMATRIX_CLASSES)
        _heatmaps(sorted(picked), normalized)
    else:
        _heatmaps(list(range(c)), normalized)
    c1, c2 = st.columns(2)
    c1.selectbox("Truth", names, key="cell_truth", help="Type to search.")
    c2.selectbox("Guess", names, key="cell_guess", help="Type to search.")
    _examples(normalized)
    query.sync("confusion")


_confusion()
