"""Overview: headline metrics of A and B, the change, and the per-class table."""
import pandas as pd
import streamlit as st

from core.pairs import worst_first
from core.report import build_report
from core.sources import side_summary
from core.summary import overview_table, per_class_table
from core.verdict import mcnemar_sentence, significance_table, verdict
from ui.state import require, summary_of

current = require()
cmp = current.comparison
summary = summary_of(current)
a, b = summary["a"], summary["b"]

st.title("Overview")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b} on {cmp.n:,} examples of {current.data.name}")
st.dataframe(pd.DataFrame([{"side": side, **side_summary(p.meta)} for side, p in (("A", cmp.a), ("B", cmp.b))]),
             hide_index=True, width="stretch")
outcome = verdict(summary)
{"B": st.success, "A": st.warning}.get(outcome.winner, st.info)(outcome.text)
st.download_button("Download report", data=lambda: build_report(cmp, summary), file_name="versus-report.html",
                   mime="text/html", on_click="ignore",
                   help="One self-contained HTML file with every chart and table; opens without network.")

cols = st.columns(4)
cols[0].metric("Accuracy A", f"{a['accuracy']:.2%}")
cols[1].metric("Accuracy B", f"{b['accuracy']:.2%}", f"{(b['accuracy'] - a['accuracy']) * 100:+.2f} pts")
cols[2].metric("Macro F1 A", f"{a['macro_f1']:.4f}")
cols[3].metric("Macro F1 B", f"{b['macro_f1']:.4f}", f"{b['macro_f1'] - a['macro_f1']:+.4f}")

cols = st.columns(4)
cols[0].metric("Fixed (A wrong, B right)", f"{summary['fixed']:,}")
cols[1].metric("Regressed (A right, B wrong)", f"{summary['regressed']:,}")
cols[2].metric("Disagree (different guesses)", f"{summary['disagree']:,}")
cols[3].metric("Both wrong", f"{summary['both_wrong']:,}")

st.subheader("Is the change real?")
st.markdown(mcnemar_sentence(summary))
st.caption("In plain words: **McNemar p** (the verdict uses its mid-p version) is the chance of seeing at least this lopsided a split between "
           "fixed and introduced errors if A and B were in fact equally accurate; below 0.05 the change is "
           "unlikely to be luck.")
st.dataframe(significance_table(summary), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.4f")
                            for c in ("A", "B", "B - A", "95% CI low", "95% CI high")})
st.caption("95% intervals of the change from a paired bootstrap: 1,000 resamples of the examples, A and B "
           "resampled together, fixed seed. In plain words: the **95% CI** is the range the true change most likely "
           "lies in; if it does not include 0, B really differs from A on data like this.")

st.subheader("Metrics")
st.dataframe(overview_table(summary), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("A", "B", "B - A")})

st.subheader("Per class (worst-regressed F1 first)")
per_class = worst_first(per_class_table(summary), "Δ F1")
st.dataframe(per_class, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.4f")
                            for c in per_class.columns if c not in ("class", "support")})

