"""Curves: one-vs-rest ROC and precision-recall of A and B, per class, with AUC and AP.

Opens on the class whose ROC AUC changed most; the per-class table lists the worst-regressed first."""
import numpy as np
import pandas as pd
import streamlit as st

from core.curves import ClassCurves, ModelCurves, area_table, curve_frame
from core.evaluation import evaluation_of
from core.eval_charts import curve_chart
from core.pairs import changed_most, worst_first
from ui import query
from ui.charts import kept_chart
from ui.state import require

current = require()
cmp = current.comparison
names = cmp.class_names
query.defaults("curves")
query.keep_known("curves_class", names)


evaluation = evaluation_of(cmp)  # the curves and areas the report and summary.json hold
if "curves" not in evaluation.__dict__:
    with st.spinner("Computing the curves..."):
        _ = evaluation.curves  # computed once, kept on the Evaluation (usually already warmed)
curves = evaluation.curves
table = area_table(curves["A"], curves["B"], names)
per_class, macro = table.iloc[:-1], table.iloc[-1:]
if not st.session_state.get("curves_class"):
    st.session_state["curves_class"] = names[int(changed_most(per_class["Δ AUC"].to_numpy())[0])]

st.title("Curves")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples. "
           "Each class against all the others; higher curves are better. Opens on the class whose AUC changed most.")


@st.cache_data(max_entries=64, show_spinner=False)
def _pair(_cmp, key: str, k: int) -> tuple[ClassCurves, ClassCurves]:
    """A's and B's curves of class k: held by the Evaluation, or drawn on demand (many classes)."""
    ev = evaluation_of(_cmp)
    return ev.class_curves("a", k), ev.class_curves("b", k)


@st.fragment
def _class_curves() -> None:
    """The picked class's metrics and its ROC and PR charts."""
    name = st.selectbox("Class", names, key="curves_class", help="Type to search.")
    k = names.index(name)
    ca, cb = _pair(cmp, current.key, k)
    one = {"A": ModelCurves([ca]), "B": ModelCurves([cb])}
    cols = st.columns(4)
    cols[0].metric("ROC AUC A", f"{ca.auc:.4f}")
    cols[1].metric("ROC AUC B", f"{cb.auc:.4f}", f"{cb.auc - ca.auc:+.4f}" if np.isfinite(cb.auc - ca.auc) else None)
    cols[2].metric("Average precision A", f"{ca.ap:.4f}")
    cols[3].metric("Average precision B", f"{cb.ap:.4f}", f"{cb.ap - ca.ap:+.4f}" if np.isfinite(cb.ap - ca.ap) else None)
    if not len(ca.roc) and not len(ca.pr):
        st.info(f"Class {name} has no example in this set (or every example is of it), so its curves are undefined.")
    else:
        left, right = st.columns(2)
        kept_chart((current.key, "roc", k), lambda: curve_chart(curve_frame(one, [name], "roc", [0]), "roc",
                                                                 f"ROC: {name} vs the rest"), where=left)
        kept_chart((current.key, "pr", k), lambda: curve_chart(curve_frame(one, [name], "pr", [0]), "pr",
                                                                f"Precision-recall: {name} vs the rest"), where=right)
    query.sync("curves")


_class_curves()

st.subheader("Every class (worst-regressed AUC first)")
shown = worst_first(per_class, "Δ AUC")
st.dataframe(pd.concat([macro, shown], ignore_index=True), hide_index=True, width="stretch",
             column_config={col: st.column_config.NumberColumn(format="%.4f") for col in table.columns[1:]})
st.caption("AUC: area under the ROC curve (0.5 is chance, 1 is perfect). AP: average precision, the area "
           "under the precision-recall curve. Macro (first row): the mean over the classes where it is defined.")
