"""Pure Altair charts of a series, built from aggregated frames (never one row per example
past what a page shows): metrics per checkpoint, per-class heatmap, learned-at and forgetting
counts, and the right/wrong strip of a few examples."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.series import NOT_LEARNED, Dynamics, Series, per_class_matrix

RIGHT, WRONG = "#54a24b", "#e45756"
METRICS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "ece": "ECE"}
PICK = "pick"  # name of the point selection in metrics_chart


def metrics_frame(s: Series) -> pd.DataFrame:
    """Long frame (t, checkpoint, epoch, metric, value): accuracy, macro-F1, ECE per checkpoint."""
    labels = s.labels()
    rows = [(t, labels[t], ck.epoch, METRICS[m], getattr(ck, m))
            for t, ck in enumerate(s.checkpoints) for m in METRICS if getattr(ck, m) is not None]
    return pd.DataFrame(rows, columns=["t", "checkpoint", "epoch", "metric", "value"])


def metrics_chart(frame: pd.DataFrame, selectable: bool = False, width: int = 520,
                  height: int = 240) -> alt.Chart:
    """Lines of each metric over the checkpoints; with selectable, clicking points selects
    checkpoints (the selection `pick`, on field t, toggled by clicks)."""
    base = alt.Chart(frame).encode(
        x=alt.X("t:O", title="checkpoint", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("metric:N", title=None),
        tooltip=["checkpoint:N", "metric:N", alt.Tooltip("value:Q", format=".4f")],
    )
    points = base.mark_point(filled=True, size=80)
    if selectable:
        pick = alt.selection_point(name=PICK, fields=["t"], toggle="true", on="click")
        points = points.add_params(pick).encode(
            size=alt.condition(pick, alt.value(160), alt.value(60)))
    return alt.layer(base.mark_line(), points).properties(width=width, height=height,
                                                          title="Metrics per checkpoint")


def per_class_frame(s: Series, top: int = 30) -> tuple[pd.DataFrame, bool]:
    """Long frame (class, t, accuracy) of the shown classes, and whether it was cut to `top`."""
    m, shown = per_class_matrix(s, top)
    rows = [(s.class_names[k], t, float(m[i, t])) for i, k in enumerate(shown) for t in range(m.shape[1])]
    return pd.DataFrame(rows, columns=["class", "t", "accuracy"]), len(shown) < len(s.class_names)


def per_class_heatmap(frame: pd.DataFrame, width: int = 520) -> alt.Chart:
    """Class x checkpoint heatmap of per-class accuracy (recall)."""
    classes = list(dict.fromkeys(frame["class"]))
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("t:O", title="checkpoint", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("class:N", title="true class", sort=classes),
        color=alt.Color("accuracy:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1])),
        tooltip=["class:N", "t:O", alt.Tooltip("accuracy:Q", format=".3f")],
    ).properties(width=width, height=max(120, 14 * len(classes)), title="Per-class accuracy")


def learned_frame(dyn: Dynamics) -> pd.DataFrame:
    """(when, examples): examples learned at each checkpoint, and those not learned."""
    counts = dyn.learned_counts()
    rows = [(f"{t}", int(counts.get(str(t), 0))) for t in range(dyn.checkpoints)]
    rows.append(("not learned", int((dyn.learned_at == NOT_LEARNED).sum())))
    return pd.DataFrame(rows, columns=["when", "examples"])


def learned_chart(frame: pd.DataFrame) -> alt.Chart:
    """Bars: examples learned at each checkpoint (stays right from there to the end)."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("when:N", sort=list(frame["when"]), title="learned at checkpoint",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("examples:Q"), tooltip=["when:N", "examples:Q"],
    ).properties(width=300, height=200, title="Learned at")


def forgetting_frame(dyn: Dynamics) -> pd.DataFrame:
    """(forgettings, examples): how many examples were forgotten 0, 1, 2, ... times."""
    counts = np.bincount(dyn.forgettings)
    return pd.DataFrame({"forgettings": np.arange(len(counts)), "examples": counts})


def forgetting_chart(frame: pd.DataFrame) -> alt.Chart:
    """Bars: examples by number of forgetting events."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("forgettings:O", title="forgetting events", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("examples:Q", scale=alt.Scale(type="symlog")), tooltip=["forgettings:O", "examples:Q"],
    ).properties(width=300, height=200, title="Forgetting events per example")


def strip_frame(s: Series, rows: np.ndarray) -> pd.DataFrame:
    """Long frame (id, t, right, guess) of the given example rows (a page of them)."""
    correct = s.correct
    out = [(str(s.ids[i]), t, bool(correct[t, i]), s.class_names[int(s.guess[t, i])])
           for i in np.asarray(rows, np.int64).tolist() for t in range(len(s.checkpoints))]
    return pd.DataFrame(out, columns=["id", "t", "right", "guess"])


def strip_chart(frame: pd.DataFrame, width: int = 360) -> alt.Chart:
    """Each example's path as a strip of cells: green right, red wrong, one per checkpoint."""
    ids = list(dict.fromkeys(frame["id"]))
    return alt.Chart(frame).mark_rect(stroke="white").encode(
        x=alt.X("t:O", title="checkpoint", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("id:N", sort=ids, title=None),
        color=alt.Color("right:N", scale=alt.Scale(domain=[True, False], range=[RIGHT, WRONG]),
                        legend=alt.Legend(title="right")),
        tooltip=["id:N", "t:O", "right:N", "guess:N"],
    ).properties(width=width, height=max(40, 18 * len(ids)), title="Path over checkpoints")


def marked_metrics_chart(frame: pd.DataFrame, marks: pd.DataFrame) -> alt.LayerChart:
    """metrics_chart with a dashed rule at each marked checkpoint (marks: side, t)."""
    chart = metrics_chart(frame)
    if marks.empty:
        return chart
    rules = alt.Chart(marks).mark_rule(color="#888888", strokeDash=[4, 3]).encode(x="t:O", tooltip=["side:N", "t:O"])
    text = alt.Chart(marks).mark_text(align="left", dx=3, dy=-4, color="#888888").encode(
        x="t:O", y=alt.value(8), text="side:N")
    return alt.layer(chart, rules, text)
