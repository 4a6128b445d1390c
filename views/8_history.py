"""History: training curves of the runs behind A and B, the compared tables' steps marked."""
import pandas as pd
import streamlit as st

from core.errors import VersusError
from core.history import history_chart, run_ref
from ui.history import logged_history, logged_keys, logged_step
from ui.state import require

current = require()
cmp = current.comparison
st.title("History")

refs = {side: run_ref(p.meta) for side, p in (("A", cmp.a), ("B", cmp.b))}
refs = {side: ref for side, ref in refs.items() if ref is not None}
if not refs:
    from ui.series import checkpoint_history

    if not checkpoint_history(current.data, current.settings):  # checkpoints: every epoch of their folder, evaluated
        st.info("Training history comes from W&B runs or a folder of epoch checkpoints: choose one "
                "for A or B in the sidebar.")
    st.stop()


runs = {(r.kind, r.location): r for r in refs.values()}
try:
    keys = sorted({k for r in runs.values() for k in logged_keys(r)})
    if not keys:
        st.info("These runs logged no numeric metrics.")
        st.stop()
    default = [k for k in keys if "loss" in k.lower() or "acc" in k.lower()][:4] or keys[:2]
    chosen = st.multiselect("Metrics", keys, default=default, key="history_keys")
    frames = [logged_history(r, tuple(chosen)).assign(run=r.label()) for r in runs.values()]
    marks = pd.DataFrame([(side, logged_step(r)) for side, r in refs.items()], columns=["side", "step"]).dropna()
except VersusError as exc:
    st.error(str(exc))
    st.stop()

marked = ("dashed lines mark the steps at which the compared tables were logged" if len(marks)
          else "the steps at which the compared tables were logged are not known")
st.caption(f"Full history of {', '.join(r.label() for r in runs.values())}; {marked}.")
frame = pd.concat(frames, ignore_index=True)
if frame.empty:
    st.info("Pick one or more metrics to plot.")
else:
    st.altair_chart(history_chart(frame, marks), width="content")
