"""Pure Altair builders for the bounded views: one example's top-k scores, the reliability
diagram with thin bins marked, and the errors behind each guessed class (B - A is
core.eval_charts.difference_heatmap, shared with the report). Inputs are already aggregated (core.pairs); sizes never depend on n.
"""
from __future__ import annotations

from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.eval_charts import COLOR_A, COLOR_B

TRUTH_SHADE = "#54a24b"


def topk_score_chart(frame: pd.DataFrame, label_a: str = "A", label_b: str = "B",
                     width: int = 360) -> alt.LayerChart:
    """Horizontal bars of A's and B's score per class of core.pairs.top_k_scores, in its order;
    the true class shaded green and marked in its label."""
    classes = [f"{c} (truth)" if t else str(c) for c, t in zip(frame["class"], frame["is_truth"])]
    long = pd.DataFrame({
        "class": classes * 2, "model": [label_a] * len(frame) + [label_b] * len(frame),
        "score": np.concatenate([frame["A"].to_numpy(float), frame["B"].to_numpy(float)]),
    })
    y = alt.Y("class:N", sort=classes, title=None, axis=alt.Axis(labelLimit=160))
    bars = alt.Chart(long).mark_bar().encode(
        y=y, yOffset=alt.YOffset("model:N", sort=[label_a, label_b]),
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title="score", axis=alt.Axis(format="%")),
        color=alt.Color("model:N", scale=alt.Scale(domain=[label_a, label_b], range=[COLOR_A, COLOR_B]),
                        legend=alt.Legend(orient="top", title=None)),
        tooltip=["model:N", "class:N", alt.Tooltip("score:Q", format=".3f")],
    )
    truth = [c for c, t in zip(classes, frame["is_truth"]) if t]
    band = alt.Chart(pd.DataFrame({"class": truth, "low": 0.0, "high": 1.0})).mark_bar(
        color=TRUTH_SHADE, opacity=0.18).encode(y=y, x="low:Q", x2="high:Q")
    return alt.layer(band, bars).properties(width=width, height=max(18 * len(frame), 60))


def reliability_counts_chart(frame: pd.DataFrame, title: str = "Reliability") -> alt.LayerChart:
    """Accuracy against mean confidence per bin for A and B (frame from
    core.calibration.reliability_frame plus a boolean 'thin' column): the line joins only the
    trusted bins; thin bins are hollow points; each point's size is its example count."""
    perfect = alt.Chart(pd.DataFrame({"confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]})).mark_line(
        color="#999999", strokeDash=[4, 4]).encode(x="confidence:Q", y="accuracy:Q")
    model = alt.Color("model:N", scale=alt.Scale(domain=["A", "B"], range=[COLOR_A, COLOR_B]), title="model")
    enc = dict(
        x=alt.X("confidence:Q", title="mean confidence (top-1)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        color=model,
        tooltip=["model:N", alt.Tooltip("lo:Q", title="bin from", format=".2f"),
                 alt.Tooltip("hi:Q", title="bin to", format=".2f"), alt.Tooltip("count:Q", format=","),
                 alt.Tooltip("accuracy:Q", format=".3f"), alt.Tooltip("thin:N", title="too few to trust")],
    )
    base = alt.Chart(frame)
    line = base.transform_filter("!datum.thin").mark_line(strokeWidth=2).encode(**enc)
    size = alt.Size("count:Q", title="examples", scale=alt.Scale(range=[20, 400]))
    full = base.transform_filter("!datum.thin").mark_circle(opacity=0.9).encode(**enc, size=size)
    hollow = base.transform_filter("datum.thin").mark_point(filled=False, strokeWidth=1.5).encode(**enc, size=size)
    return alt.layer(perfect, line, full, hollow, title=title).properties(width=420, height=360)


def errors_breakdown_chart(frame: pd.DataFrame, guesses: Sequence[str], width: int = 300) -> alt.FacetChart:
    """Errors per guessed class for A and B side by side, each bar split by its largest true
    classes (frame from core.pairs.errors_breakdown)."""
    truths = [t for t in dict.fromkeys(frame["truth"]) if t != "other"] + ["other"]
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("guess:N", sort=list(guesses), title="guessed class"),
        x=alt.X("sum(count):Q", title="errors"),
        color=alt.Color("truth:N", sort=truths, title="true class", legend=alt.Legend(columns=2, symbolLimit=40)),
        order=alt.Order("count:Q", sort="descending"),
        tooltip=["model:N", "guess:N", "truth:N", alt.Tooltip("count:Q", title="errors")],
    ).properties(width=width, height=min(20 * max(len(guesses), 1), 400)).facet(
        column=alt.Column("model:N", sort=["A", "B"], title=None))
