"""Calibration: reliability of A and B on one chart, ECE and Brier, and per-class score histograms."""
import numpy as np
import streamlit as st

from core.calibration import RELIABILITY_BINS, histogram_frame, reliability, reliability_frame
from core.eval_charts import histogram_chart, reliability_chart
from core.metrics import brier_score, expected_calibration_error
from ui.state import require

current = require()
cmp = current.comparison
names = cmp.class_names
truth = cmp.truth

st.title("Calibration")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples. "
           "A well calibrated model is right 80% of the time when it says 80%.")

ece = {side: expected_calibration_error(truth, p.scores) for side, p in (("A", cmp.a), ("B", cmp.b))}
brier = {side: brier_score(truth, p.scores) for side, p in (("A", cmp.a), ("B", cmp.b))}
cols = st.columns(4)
cols[0].metric("ECE A", f"{ece['A']:.4f}")
cols[1].metric("ECE B", f"{ece['B']:.4f}", f"{ece['B'] - ece['A']:+.4f}", delta_color="inverse")
cols[2].metric("Brier A", f"{brier['A']:.4f}")
cols[3].metric("Brier B", f"{brier['B']:.4f}", f"{brier['B'] - brier['A']:+.4f}", delta_color="inverse")

frame = reliability_frame({"A": reliability(truth, cmp.a.scores), "B": reliability(truth, cmp.b.scores)})
st.altair_chart(reliability_chart(frame, "Reliability: accuracy vs top-1 confidence"))
st.caption(f"Top-1 confidence in {RELIABILITY_BINS} equal bins; a dot's size is its number of examples; the "
           "dashed diagonal is perfect calibration. Below it the model is over-confident, above it under-confident. "
           "ECE: the examples-weighted mean gap to the diagonal; Brier: mean squared error of all class scores "
           "(both lower is better).")

st.subheader("Score histograms")
k = st.selectbox("Class", range(len(names)), format_func=names.__getitem__, key="calibration_class")
hist = histogram_frame(truth, {"A": cmp.a.scores, "B": cmp.b.scores}, k, names[k])
st.altair_chart(histogram_chart(hist, f"Score for class {names[k]}"))
st.caption(f"Each model's score for class {names[k]}, as a share of the examples whose truth is {names[k]} "
           f"({int(np.sum(truth == k)):,}) and of the rest ({int(np.sum(truth != k)):,}). "
           "The less the two overlap, the better the model separates the class.")
