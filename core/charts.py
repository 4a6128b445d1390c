"""Pure Altair chart builders for the side-by-side views: data in, alt.Chart out."""
from __future__ import annotations

from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

COLOR_A = "#4c78a8"
COLOR_B = "#f58518"
TRUTH_SHADE = "#54a24b"
HIST_MODES = ("mirrored", "stacked")


def _model_color(label_a: str, label_b: str) -> alt.Color:
    return alt.Color("model:N", scale=alt.Scale(domain=[label_a, label_b], range=[COLOR_A, COLOR_B]),
                     legend=None)


def _class_x(class_names: Sequence[str], title: str | None = None) -> alt.X:
    return alt.X("class:N", sort=list(class_names), title=title, axis=alt.Axis(labelAngle=0))


def _scores_frame(scores_a: np.ndarray, scores_b: np.ndarray, class_names: Sequence[str],
                  label_a: str, label_b: str, truth: int) -> pd.DataFrame:
    """One row per (model, class): the score, a signed height for mirroring, and the truth flag."""
    c = len(class_names)
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    return pd.DataFrame({
        "model": [label_a] * c + [label_b] * c,
        "class": list(class_names) * 2,
        "score": np.concatenate([a, b]),
        "height": np.concatenate([a, -b]),
        "is_truth": np.tile(np.arange(c) == truth, 2),
    })


def _truth_band(class_names: Sequence[str], truth: int, low: float, high: float) -> alt.Chart:
    band = pd.DataFrame({"class": [class_names[truth]], "low": [low], "high": [high]})
    return alt.Chart(band).mark_bar(color=TRUTH_SHADE, opacity=0.18).encode(
        x=_class_x(class_names), y="low:Q", y2="high:Q",
        tooltip=[alt.Tooltip("class:N", title="truth")],
    )


def score_histogram(scores_a: np.ndarray, scores_b: np.ndarray, truth: int, class_names: Sequence[str],
                    label_a: str = "A", label_b: str = "B", mode: str = "mirrored",
                    width: int = 360, height: int = 140) -> alt.LayerChart | alt.VConcatChart:
    """Per-class scores of one example for A and B on one shared class axis, the true class shaded.

    mirrored: one panel, A's bars up, B's bars down. stacked: A's panel above B's, both upward.
    """
    if mode not in HIST_MODES:
        raise ValueError(f"mode must be one of {HIST_MODES}")
    df = _scores_frame(scores_a, scores_b, class_names, label_a, label_b, truth)
    tooltip = ["model:N", "class:N", alt.Tooltip("score:Q", format=".3f")]
    if mode == "mirrored":
        bars = alt.Chart(df).mark_bar().encode(
            x=_class_x(class_names),
            y=alt.Y("height:Q", scale=alt.Scale(domain=[-1, 1]), title=f"{label_b} ▼  ▲ {label_a}",
                    axis=alt.Axis(values=[-1, 0, 1], labelExpr="abs(datum.value)")),
            color=_model_color(label_a, label_b), tooltip=tooltip,
        )
        return alt.layer(_truth_band(class_names, truth, -1, 1), bars).properties(width=width, height=height)
    panels = []
    for label in (label_a, label_b):
        bars = alt.Chart(df[df["model"] == label]).mark_bar().encode(
            x=_class_x(class_names), color=_model_color(label_a, label_b), tooltip=tooltip,
            y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 1]), title=label, axis=alt.Axis(values=[0, 1])),
        )
        panels.append(alt.layer(_truth_band(class_names, truth, 0, 1), bars)
                      .properties(width=width, height=height // 2))
    return alt.vconcat(*panels, spacing=4)


def truth_distribution(errors_a: np.ndarray, errors_b: np.ndarray, class_names: Sequence[str],
                       label_a: str = "A", label_b: str = "B", guesses: Sequence[str] | None = None,
                       width: int = 320) -> alt.FacetChart:
    """Errors per guessed class for A and B side by side, each bar split by the true labels behind it.

    errors_a / errors_b are C x C counts (row = guessed class, column = true class); only
    non-zero cells are sent. guesses orders the bars (default: class order).
    """
    frames = []
    for label, m in ((label_a, np.asarray(errors_a)), (label_b, np.asarray(errors_b))):
        g, t = np.nonzero(m)
        frames.append(pd.DataFrame({
            "model": label, "guess": np.asarray(class_names, dtype=object)[g],
            "truth": np.asarray(class_names, dtype=object)[t], "count": m[g, t].astype(int),
        }))
    df = pd.concat(frames, ignore_index=True)
    order = list(guesses) if guesses is not None else list(class_names)
    rows = max(len(order), 1)
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("guess:N", sort=order, title="guessed class"),
        x=alt.X("sum(count):Q", title="errors"),
        color=alt.Color("truth:N", sort=list(class_names), title="true class"),
        order=alt.Order("truth:N"),
        tooltip=["model:N", "guess:N", "truth:N", alt.Tooltip("count:Q", title="errors")],
    ).properties(width=width, height=min(18 * rows, 600)).facet(
        column=alt.Column("model:N", sort=[label_a, label_b], title=None),
    )
