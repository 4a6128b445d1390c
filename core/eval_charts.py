"""Pure Altair builders for the evaluation views: confusion heatmaps, the B - A difference
matrix, ROC / PR overlays, the reliability diagram and score histograms.

Every chart's data is bounded: C x C cells, down-sampled curves, binned histograms.
"""
from __future__ import annotations

from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd

COLOR_A = "#4c78a8"
COLOR_B = "#f58518"
GROUP_COLORS = ("#54a24b", "#bab0ac")
CELL_SELECTION = "cell"
MAX_LABELLED_CLASSES = 20


def _model_color(title: str | None = "model") -> alt.Color:
    return alt.Color("model:N", scale=alt.Scale(domain=["A", "B"], range=[COLOR_A, COLOR_B]), title=title)


def _side(num_classes: int) -> int:
    return int(np.clip(32 * num_classes, 160, 420))


def confusion_frame(cm: np.ndarray, class_names: Sequence[str], normalize: bool) -> pd.DataFrame:
    """One row per cell: truth, guess, count, share of the true class, the shown value and label."""
    cm = np.asarray(cm, dtype=np.int64)
    c = len(class_names)
    support = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, support, out=np.zeros(cm.shape), where=support > 0)
    value = share if normalize else cm.astype(float)
    labels = np.char.mod("%.2f", share) if normalize else cm.astype(str)
    return pd.DataFrame({
        "truth": np.repeat(list(class_names), c), "guess": np.tile(list(class_names), c),
        "count": cm.ravel(), "share": share.ravel(), "value": value.ravel(),
        "label": np.where(cm.ravel() > 0, labels.ravel(), ""),
        "dark": value.ravel() > 0.55 * max(value.max(), 1e-12),
    })


def _axes(class_names: Sequence[str]) -> tuple[alt.X, alt.Y]:
    names = list(class_names)
    return (alt.X("guess:N", sort=names, title="guess", axis=alt.Axis(labelAngle=0)),
            alt.Y("truth:N", sort=names, title="truth"))


_TEXT_ON_DARK = alt.condition("datum.dark", alt.value("white"), alt.value("black"))


def _with_labels(base: alt.Chart, rect: alt.Chart, num_classes: int, text_color: Any, title: str,
                 side: int) -> alt.LayerChart:
    layers = [rect]
    if num_classes <= MAX_LABELLED_CLASSES:
        layers.append(base.mark_text(fontSize=11).encode(text="label:N", color=text_color))
    return alt.layer(*layers, title=title).properties(width=side, height=side)


def confusion_heatmap(cm: np.ndarray, class_names: Sequence[str], normalize: bool = False,
                      title: str = "") -> alt.LayerChart:
    """Confusion matrix (rows truth, columns guess) as counts or shares of each true class;
    a click selects a cell (selection parameter CELL_SELECTION on truth and guess)."""
    df = confusion_frame(cm, class_names, normalize)
    x, y = _axes(class_names)
    side = _side(len(class_names))
    pick = alt.selection_point(name=CELL_SELECTION, fields=["truth", "guess"], on="click")
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues", domainMin=0),
                        title="share of row" if normalize else "count"),
        tooltip=["truth:N", "guess:N", "count:Q", alt.Tooltip("share:Q", format=".1%", title="share of row")],
    ).add_params(pick)
    return _with_labels(base, rect, len(class_names), _TEXT_ON_DARK, title, side)


def difference_frame(cm_a: np.ndarray, cm_b: np.ndarray, class_names: Sequence[str],
                     normalize: bool) -> pd.DataFrame:
    """One row per cell: A's and B's value (count or share of row), the change B - A, and the
    gain for B: the change on the diagonal (more right is better), minus it off the diagonal
    (fewer confusions is better)."""
    fa = confusion_frame(cm_a, class_names, normalize)
    fb = confusion_frame(cm_b, class_names, normalize)
    diff = fb["value"] - fa["value"]
    diagonal = fa["truth"].to_numpy() == fa["guess"].to_numpy()
    gain = np.where(diagonal, diff, -diff)
    fmt = "{:+.2f}" if normalize else "{:+.0f}"
    return pd.DataFrame({
        "truth": fa["truth"], "guess": fa["guess"], "a": fa["value"], "b": fb["value"], "diff": diff,
        "gain": gain, "effect": np.where(gain > 1e-12, "B better", np.where(gain < -1e-12, "B worse", "same")),
        "label": [fmt.format(d) if abs(d) > 1e-9 else "" for d in diff],
        "dark": diff.abs() > 0.6 * max(diff.abs().max(), 1e-12),
    })


BETTER, WORSE = "#1a9850", "#d73027"  # B - A everywhere (app and report): green B better, red B worse
DIVERGING = {"range": [WORSE, "#f7f7f7", BETTER], "interpolate": "rgb"}


def difference_heatmap(cm_a: np.ndarray, cm_b: np.ndarray, class_names: Sequence[str],
                       normalize: bool = False, title: str = "B - A", selectable: bool = False) -> alt.LayerChart:
    """The change B - A per cell (labels and tooltip), colored on a diverging scale centred on
    zero by what it means for B: green where B is better (more on the diagonal, fewer off it),
    red where B is worse, white where they agree. The app's and the report's B - A both; with
    selectable, a click selects a cell (selection CELL_SELECTION on truth and guess)."""
    df = difference_frame(cm_a, cm_b, class_names, normalize)
    reach = float(max(df["diff"].abs().max(), 1e-9 if normalize else 1))
    x, y = _axes(class_names)
    side = _side(len(class_names))
    fmt = ".2f" if normalize else ".0f"
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect(stroke="#dddddd", strokeWidth=0.5).encode(
        color=alt.condition("abs(datum.gain) < 1e-9", alt.value("#ffffff"), alt.Color(
            "gain:Q", title="B worse … B better", scale=alt.Scale(domain=[-reach, reach], domainMid=0, **DIVERGING))),
        tooltip=["truth:N", "guess:N", alt.Tooltip("a:Q", title="A", format=fmt),
                 alt.Tooltip("b:Q", title="B", format=fmt), alt.Tooltip("diff:Q", title="B - A", format="+" + fmt),
                 alt.Tooltip("effect:N", title="for B")],
    )
    if selectable:
        rect = rect.add_params(alt.selection_point(name=CELL_SELECTION, fields=["truth", "guess"], on="click"))
    return _with_labels(base, rect, len(class_names), _TEXT_ON_DARK, title, side)


def curve_chart(frame: pd.DataFrame, kind: str, title: str = "",
                class_names: Sequence[str] | None = None, columns: int = 5) -> alt.Chart | alt.LayerChart | alt.FacetChart:
    """A's and B's curves overlaid (frame from core.curves.curve_frame); kind 'roc' or 'pr'.

    With class_names, one small panel per class in that order; otherwise one chart, with the
    chance diagonal on a ROC chart.
    """
    x_title, y_title = ("false positive rate", "true positive rate") if kind == "roc" else ("recall", "precision")
    small = class_names is not None
    line = alt.Chart(frame).mark_line(strokeWidth=2, clip=True).encode(
        x=alt.X("x:Q", title=x_title, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("y:Q", title=y_title, scale=alt.Scale(domain=[0, 1])),
        color=_model_color(), order="order:Q",
        tooltip=["model:N", "class:N", alt.Tooltip("x:Q", title=x_title, format=".3f"),
                 alt.Tooltip("y:Q", title=y_title, format=".3f"),
                 alt.Tooltip("threshold:Q", format=".3f")],
    ).properties(width=150 if small else 360, height=150 if small else 360)
    if small:
        return line.facet(facet=alt.Facet("class:N", sort=list(class_names), title=None),
                          columns=columns, title=title)
    if kind != "roc":
        return line.properties(title=title)
    chance = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color="#999999", strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    return alt.layer(chance, line, title=title)


def reliability_chart(frame: pd.DataFrame, title: str = "Reliability") -> alt.LayerChart:
    """Accuracy against mean top-1 confidence per bin for A and B (frame from
    core.calibration.reliability_frame), the diagonal being perfect calibration; points are
    sized by their example count and faded where the bin is thin."""
    perfect = alt.Chart(pd.DataFrame({"confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]})).mark_line(
        color="#999999", strokeDash=[4, 4]).encode(x="confidence:Q", y="accuracy:Q")
    enc = dict(
        x=alt.X("confidence:Q", title="mean confidence (top-1)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        color=_model_color(),
        tooltip=["model:N", alt.Tooltip("lo:Q", title="bin from", format=".2f"),
                 alt.Tooltip("hi:Q", title="bin to", format=".2f"), alt.Tooltip("count:Q", format=","),
                 alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f")],
    )
    base = alt.Chart(frame)
    lines = base.mark_line(strokeWidth=2).encode(**enc)
    points = base.mark_circle().encode(**enc, size=alt.Size("count:Q", title="examples",
                                                            scale=alt.Scale(range=[20, 400])),
                                       opacity=alt.condition("datum.thin", alt.value(0.3), alt.value(0.9)))
    return alt.layer(perfect, lines, points, title=title).properties(width=420, height=360)


def histogram_chart(frame: pd.DataFrame, title: str = "") -> alt.FacetChart:
    """Score histograms of one class (frame from core.calibration.histogram_frame): the class's
    own examples vs the rest, as shares of each group, one panel per model."""
    groups = list(dict.fromkeys(frame["group"]))
    bars = alt.Chart(frame).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("lo:Q", title="score", scale=alt.Scale(domain=[0, 1])), x2="hi:Q",
        y=alt.Y("share:Q", title="share of group", stack=None, axis=alt.Axis(format="%")), y2=alt.datum(0),
        color=alt.Color("group:N", scale=alt.Scale(domain=groups, range=list(GROUP_COLORS)), title=None,
                        legend=alt.Legend(orient="top")),
        tooltip=["model:N", "group:N", alt.Tooltip("lo:Q", title="from", format=".2f"),
                 alt.Tooltip("hi:Q", title="to", format=".2f"), alt.Tooltip("count:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=320, height=200)
    return bars.facet(column=alt.Column("model:N", title=None, sort=["A", "B"]), title=title)
