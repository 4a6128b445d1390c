"""Series: every checkpoint of a training run (or every version of a logged table) evaluated
together: metrics per checkpoint, per-class accuracy, the run's history, per-example dynamics."""
import html
import numpy as np
import pandas as pd
import streamlit as st

from core import series_charts as sc
from core.errors import VersusError
from core.history import RunRef, history_chart
from core.selection import page_count, page_of
from core.series import DYNAMICS_FILTERS, NOT_LEARNED, dynamics_mask, path_string
from ui import series as ui_series
from ui.grid import image_grid
from ui.state import require
from ui.history import logged_history, logged_keys

PER_PAGE = 24
CHART_KEY = "series_metrics_chart"

current = require()
st.title("Series")
st.caption("Every checkpoint of a run evaluated in one pass over the data, or every version of one logged "
           "table. Pick two checkpoints to compare them as A and B on every other page.")

if ui_series.SOURCE_KEY not in st.session_state:
    st.session_state[ui_series.SOURCE_KEY] = ui_series.default_source()
c = st.columns([4, 1], vertical_alignment="bottom")
text = c[0].text_input("Folder of epoch checkpoints, or offline run folder:TABLE_KEY", key=ui_series.SOURCE_KEY,
                       help="Checkpoints are ordered by the epoch saved in them or in their names "
                            "(epoch_2 before epoch_10, Lightning's epoch=0-step=20.ckpt, HF epoch_N/ folders). "
                            "wandb:ENTITY/PROJECT/RUN_ID:KEY reads every version of a cloud run's table.").strip()
skip_bad = c[1].checkbox("Skip bad checkpoints", key="series_skip_bad",
                         help="Leave out unreadable or mismatched checkpoints instead of stopping (each is said).")
if not text:
    st.info("Give a folder of epoch checkpoints (or an offline run folder:TABLE_KEY) above.")
    st.stop()
try:
    spec, series = ui_series.load(text, current.data, current.settings, skip_bad)
except VersusError as exc:
    st.error(str(exc))
    st.stop()
except MemoryError:
    st.error("Out of memory while evaluating the series; lower the batch size or use fewer checkpoints.")
    st.stop()

if series.warnings:  # one box, as on every other page
    st.warning("\n".join(f"- {w}" for w in dict.fromkeys(series.warnings)))
if "_series_set_error" in st.session_state:
    st.error(st.session_state.pop("_series_set_error"))
if "_series_set" in st.session_state:
    a_t, b_t = st.session_state.pop("_series_set")
    st.success(f"A is now checkpoint {a_t} ({series.checkpoints[a_t].source}) and B checkpoint {b_t} "
               f"({series.checkpoints[b_t].source}) on every page.")

labels = series.labels()
dyn = series.dynamics()
st.markdown(f"### {len(series.checkpoints)} checkpoints · {series.n:,} examples · {len(series.class_names)} classes")

# ---- metrics per checkpoint, and picking A and B ---------------------------------------------
left, right = st.columns([3, 2])
with left:
    st.altair_chart(sc.metrics_chart(sc.metrics_frame(series), selectable=True), key=CHART_KEY,
                    on_select=lambda: ui_series.on_chart_select(CHART_KEY), selection_mode=sc.PICK)
    st.caption("Click two points (shift-click the second) to compare those checkpoints as A and B.")
with right:
    table = pd.DataFrame([ck.to_json() for ck in series.checkpoints])
    table.insert(0, "#", range(len(table)))
    st.dataframe(table, hide_index=True, width="stretch")
    c = st.columns([2, 2, 2], vertical_alignment="bottom")
    index = list(range(len(labels)))
    a_pick = c[0].selectbox("A", index, index=0, format_func=lambda t: labels[t], key="series_a")
    b_pick = c[1].selectbox("B", index, index=len(index) - 1, format_func=lambda t: labels[t], key="series_b")
    c[2].button("Compare as A and B", on_click=ui_series.set_sides, args=(a_pick, b_pick), key="series_set")

# ---- per-class accuracy ------------------------------------------------------------------------
st.subheader("Per-class accuracy")
pc, cut = sc.per_class_frame(series)
if cut:
    st.caption(f"The 30 of {len(series.class_names)} classes whose accuracy changed most over the series.")
# Streamlit sizes a chart of a nominal y axis to a sliver unless told its height in pixels.
st.altair_chart(sc.per_class_heatmap(pc), width="content", height=max(120, 14 * pc["class"].nunique()) + 90)

# ---- the run's logged history ----------------------------------------------------------------
run = series.meta.get("offline_run") or series.meta.get("wandb_run")
if run:
    st.subheader("Logged history")
    ref = RunRef("offline" if series.meta.get("offline_run") else "wandb", str(run), None, None)
    try:
        keys = logged_keys(ref)
        frame = logged_history(ref, tuple(keys[:4])).assign(run=ref.label()) if keys else pd.DataFrame()
    except VersusError as exc:
        st.error(str(exc))
        frame = pd.DataFrame()
    marks = pd.DataFrame([(f"#{t}", ck.step) for t, ck in enumerate(series.checkpoints) if ck.step is not None],
                         columns=["side", "step"])
    if frame.empty:
        st.info("The run logged no numeric metrics.")
    else:
        st.caption("What the run logged; dashed lines mark the step of each table version (#checkpoint).")
        st.altair_chart(history_chart(frame, marks), width="content")

# ---- per-example dynamics --------------------------------------------------------------------
st.subheader("Per-example dynamics")
c = st.columns(4)
c[0].metric("Forgetting events", f"{int(dyn.forgettings.sum()):,}",
            help="Right at one checkpoint and wrong at the next (Toneva et al., ICLR 2019).")
c[1].metric("Never right", f"{int(dyn.never_right.sum()):,}")
c[2].metric("Always right", f"{int(dyn.always_right.sum()):,}")
c[3].metric("Not learned by the end", f"{int((dyn.learned_at == NOT_LEARNED).sum()):,}",
            help="Wrong at the last checkpoint.")
c = st.columns(2)
c[0].altair_chart(sc.learned_chart(sc.learned_frame(dyn)), width="content")
c[1].altair_chart(sc.forgetting_chart(sc.forgetting_frame(dyn)), width="content")

name = st.selectbox("Show examples", list(DYNAMICS_FILTERS)[1:], format_func=DYNAMICS_FILTERS.get,
                    key="series_filter")
rows = np.flatnonzero(dynamics_mask(dyn, name))
rows = rows[np.argsort(-dyn.forgettings[rows], kind="stable")]
pages = page_count(len(rows), PER_PAGE)
c = st.columns([3, 1], vertical_alignment="bottom")
c[0].markdown(f"**{len(rows):,} examples** {DYNAMICS_FILTERS[name]}, most forgotten first; "
              "caption: id · truth · path (✓ right, ✗ wrong per checkpoint)")
page = int(c[1].number_input(f"Page (of {pages})", 1, pages, key="series_page"))
visible = page_of(rows, page, PER_PAGE)
if len(visible):
    captions = [f"{series.ids[i]} · {series.class_names[int(series.truth[i])]} · {path_string(dyn.correct[:, i])}"
                for i in visible]
    left, right = st.columns([3, 2])
    with left:
        image_grid(series.samples, visible, [html.escape(c) for c in captions], px=72)
    with right:
        st.altair_chart(sc.strip_chart(sc.strip_frame(series, visible)), width="content")
else:
    st.info("No example matches.")
