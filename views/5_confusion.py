"""Confusion: A's and B's confusion matrices, the change B - A, and the examples behind any cell."""
from html import escape

import numpy as np
import pandas as pd
import streamlit as st

from core.cells import CellIndex, drill
from core.eval_charts import CELL_SELECTION, confusion_heatmap, difference_heatmap
from core.metrics import confusion
from ui.grid import image_grid
from ui.state import require

NORMALIZED = "confusion_normalized"  # outlives the widget, so the choice stays set across pages
SHOWN_IMAGES = 30
SHOWN_IDS = 10_000

current = require()
cmp = current.comparison
names = cmp.class_names
c = len(names)
cm_a = confusion(cmp.truth, cmp.guess_a, c)
cm_b = confusion(cmp.truth, cmp.guess_b, c)

st.title("Confusion")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples. "
           "Rows are the true class, columns the guess. Click a cell, or choose it below, to see its examples.")

normalized = st.toggle("Share of each true class (row-normalized)", key="confusion_toggle",
                       value=st.session_state.get(NORMALIZED, False))
st.session_state[NORMALIZED] = normalized

if st.session_state.get("cell_truth") not in names or st.session_state.get("cell_guess") not in names:
    off = (cm_a + cm_b) * (1 - np.eye(c, dtype=np.int64))
    t0, g0 = np.unravel_index(int(off.argmax()), off.shape) if off.any() else (0, 0)
    st.session_state["cell_truth"], st.session_state["cell_guess"] = names[t0], names[g0]


@st.cache_resource(max_entries=4, show_spinner=False)
def _cell_indexes(_cmp, key: str) -> tuple[CellIndex, CellIndex]:
    """The rows behind every cell of A and B (read-only, shared by reruns)."""
    c = len(_cmp.class_names)
    return CellIndex.build(_cmp.truth, _cmp.guess_a, c), CellIndex.build(_cmp.truth, _cmp.guess_b, c)


def _take_click(event, side: str) -> None:
    """Move the chosen cell to a newly clicked one (a selection seen before changes nothing)."""
    points = event.selection.get(CELL_SELECTION) or []
    click = (points[0].get("truth"), points[0].get("guess")) if points else None
    seen = f"confusion_click_{side}"
    if click != st.session_state.get(seen) and click and click[0] in names and click[1] in names:
        st.session_state["cell_truth"], st.session_state["cell_guess"] = click
    st.session_state[seen] = click


left, right = st.columns(2)
with left:
    _take_click(st.altair_chart(confusion_heatmap(cm_a, names, normalized, "A"), key="confusion_a",
                                on_select="rerun", selection_mode=CELL_SELECTION), "a")
with right:
    _take_click(st.altair_chart(confusion_heatmap(cm_b, names, normalized, "B"), key="confusion_b",
                                on_select="rerun", selection_mode=CELL_SELECTION), "b")

left, right = st.columns(2)
with left:
    st.altair_chart(difference_heatmap(cm_a, cm_b, names, normalized, "B - A"))
with right:
    st.markdown("**B - A**: blue where B puts more examples than A, red where it puts fewer. "
                "On the diagonal blue is good (more right); off the diagonal blue is bad (more confusions).")
    truth_name = st.selectbox("Truth", names, key="cell_truth")
    guess_name = st.selectbox("Guess", names, key="cell_guess")

t, g = names.index(truth_name), names.index(guess_name)
index_a, index_b = _cell_indexes(cmp, current.key)
cell = drill(index_a, index_b, cmp.guess_a, cmp.guess_b, t, g)
where = f"truth {truth_name}, guess {guess_name}"
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
else:
    shown = rows[:SHOWN_IMAGES]
    if len(rows) > len(shown):
        st.caption(f"Showing the first {len(shown)} of {len(rows):,}; every id is in the table below.")
    captions = [escape(f"{cmp.ids[i]}") + "<br>" + escape(f"A: {names[cmp.guess_a[i]]} · B: {names[cmp.guess_b[i]]}")
                for i in shown]
    if cmp.samples is None:
        st.info("These predictions come without images; the ids are in the table below.")
    else:
        image_grid(cmp.samples, shown, captions, columns=10, px=72)
    listed = rows[:SHOWN_IDS]
    with st.expander(f"Ids ({len(rows):,})"):
        st.dataframe(pd.DataFrame({
            "id": cmp.ids[listed].astype(str), "truth": np.asarray(names, dtype=object)[cmp.truth[listed]],
            "A guess": np.asarray(names, dtype=object)[cmp.guess_a[listed]],
            "B guess": np.asarray(names, dtype=object)[cmp.guess_b[listed]],
        }), hide_index=True, width="stretch")
        if len(rows) > len(listed):
            st.caption(f"The first {len(listed):,} of {len(rows):,}.")
