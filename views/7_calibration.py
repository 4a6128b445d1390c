"""Calibration: reliability of A and B on one chart with bin counts (thin bins marked), ECE and
Brier, and per-class score histograms opening on the class whose recall changed most."""
import numpy as np
import pandas as pd
import streamlit as st

from core.calibration import RELIABILITY_BINS, THIN_BIN, histogram_frame, reliability_frame
from core.eval_charts import histogram_chart
from core.evaluation import evaluation_of
from core.pairs import changed_most, recall_change
from core.view_charts import reliability_counts_chart
from ui import query
from ui.charts import kept_chart
from ui.state import require

current = require()
cmp = current.comparison
names = cmp.class_names
query.defaults("calibration")
query.keep_known("calibration_class", names)


@st.cache_data(max_entries=8, show_spinner="Binning the scores...")
def _calibration(_cmp, key: str) -> tuple[dict, dict, pd.DataFrame, np.ndarray]:
    """ECE, Brier, the reliability bins and the per-class recall change, read from the
    comparison's Evaluation (the numbers the Overview, summary.json and the report show)."""
    ev = evaluation_of(_cmp)
    ece, brier = {"A": ev.a.ece, "B": ev.b.ece}, {"A": ev.a.brier, "B": ev.b.brier}
    frame = reliability_frame({"A": ev.a.reliability, "B": ev.b.reliability})
    return ece, brier, frame, recall_change(ev.a.confusion, ev.b.confusion)


@st.cache_data(max_entries=32, show_spinner=False)
def _histogram(_cmp, key: str, k: int) -> tuple[pd.DataFrame, int]:
    """Both models' score histograms for class k and its number of examples, once per class."""
    hist = histogram_frame(_cmp.truth, {"A": _cmp.a.scores, "B": _cmp.b.scores}, k, _cmp.class_names[k])
    return hist, int(np.sum(_cmp.truth == k))


ece, brier, frame, change = _calibration(cmp, current.key)
if not st.session_state.get("calibration_class"):
    st.session_state["calibration_class"] = names[int(changed_most(change)[0])]

st.title("Calibration")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples. "
           "A well calibrated model is right 80% of the time when it says 80%.")
cols = st.columns(4)
cols[0].metric("ECE A", f"{ece['A']:.4f}")
cols[1].metric("ECE B", f"{ece['B']:.4f}", f"{ece['B'] - ece['A']:+.4f}", delta_color="inverse")
cols[2].metric("Brier A", f"{brier['A']:.4f}")
cols[3].metric("Brier B", f"{brier['B']:.4f}", f"{brier['B'] - brier['A']:+.4f}", delta_color="inverse")

left, right = st.columns([3, 2])
kept_chart((current.key, "reliability"), lambda: reliability_counts_chart(frame, "Reliability: accuracy vs top-1 confidence"),
           where=left)
with right:
    counts = frame.pivot_table(index=["lo", "hi"], columns="model", values="count", fill_value=0).reset_index()
    counts.insert(0, "bin", [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(counts["lo"], counts["hi"])])
    st.markdown("**Examples per bin**")
    st.dataframe(counts.drop(columns=["lo", "hi"]), hide_index=True, width="stretch", height=300)
thin = int(frame["thin"].sum())
st.caption(f"Top-1 confidence in {RELIABILITY_BINS} equal bins; a dot's size is its number of examples; the "
           "dashed diagonal is perfect calibration. Below it the model is over-confident, above it under-confident. "
           + (f"{thin} bin{'s' if thin != 1 else ''} with fewer than {THIN_BIN} examples "
              "are hollow and left out of the line: too few to trust. " if thin else "")
           + "ECE: the examples-weighted mean gap to the diagonal; Brier: mean squared error of all class scores "
             "(both lower is better).")


@st.fragment
def _histograms() -> None:
    """Both models' score histograms for the picked class."""
    st.subheader("Score histograms")
    name = st.selectbox("Class", names, key="calibration_class",
                        help="Type to search. Opens on the class whose recall changed most.")
    k = names.index(name)
    hist, members = _histogram(cmp, current.key, k)
    kept_chart((current.key, "histogram", k), lambda: histogram_chart(hist, f"Score for class {name}"))
    st.caption(f"Each model's score for class {name}, as a share of the examples whose truth is {name} "
               f"({members:,}) and of the rest ({cmp.n - members:,}). "
               "The less the two overlap, the better the model separates the class.")
    query.sync("calibration")


_histograms()
