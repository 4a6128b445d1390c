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
TOP_K = 10  # per-example score charts: the top TOP_K classes of A and of B, the truth, and OTHER
OTHER = "(other classes)"


def _model_color(label_a: str, label_b: str) -> alt.Color:
    return alt.Color("model:N", scale=alt.Scale(domain=[label_a, label_b], range=[COLOR_A, COLOR_B]),
                     legend=None)


def _class_x(class_names: Sequence[str], title: str | None = None) -> alt.X:
    return alt.X("class:N", sort=list(class_names), title=title, axis=alt.Axis(labelAngle=0))


def top_classes(scores_a: np.ndarray, scores_b: np.ndarray, truth: int, k: int = TOP_K) -> np.ndarray:
    """Class indices, ascending: the k highest scores of A, the k highest of B, and the truth."""
    a, b = np.asarray(scores_a), np.asarray(scores_b)
    k = min(k, len(a))
    top = np.concatenate([np.argpartition(-a, k - 1)[:k], np.argpartition(-b, k - 1)[:k], [truth]])
    return np.unique(top)


def _scores_frame(scores_a: np.ndarray, scores_b: np.ndarray, class_names: Sequence[str],
                  label_a: str, label_b: str, truth: int, k: int = TOP_K) -> tuple[pd.DataFrame, list[str]]:
    """One row per (model, shown class): the score, a signed height for mirroring, and the
    truth flag; the shown classes are top_classes, the rest summed into one OTHER bar.
    Returns the frame and the x order."""
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    shown = top_classes(a, b, truth, k)
    names = [class_names[j] for j in shown]
    sa, sb, flags = a[shown], b[shown], shown == truth
    if len(shown) < len(class_names):
        names.append(OTHER)
        sa, sb = np.r_[sa, max(a.sum() - sa.sum(), 0.0)], np.r_[sb, max(b.sum() - sb.sum(), 0.0)]
        flags = np.r_[flags, False]
    c = len(names)
    frame = pd.DataFrame({
        "model": [label_a] * c + [label_b] * c,
        "class": names * 2,
        "score": np.concatenate([sa, sb]),
        "height": np.concatenate([sa, -sb]),
        "is_truth": np.tile(flags, 2),
    })
    return frame, names


def _truth_band(shown: Sequence[str], truth_name: str, low: float, high: float) -> alt.Chart:
    band = pd.DataFrame({"class": [truth_name], "low": [low], "high": [high]})
    return alt.Chart(band).mark_bar(color=TRUTH_SHADE, opacity=0.18).encode(
        x=_class_x(shown), y="low:Q", y2="high:Q",
        tooltip=[alt.Tooltip("class:N", title="truth")],
    )


def score_histogram(scores_a: np.ndarray, scores_b: np.ndarray, truth: int, class_names: Sequence[str],
                    label_a: str = "A", label_b: str = "B", mode: str = "mirrored",
                    width: int = 360, height: int = 140, top_k: int = TOP_K) -> alt.LayerChart | alt.VConcatChart:
    """Per-class scores of one example for A and B on one shared class axis, the true class shaded.

    Only the top_k classes of A, the top_k of B and the truth get a bar; the rest share one
    OTHER bar (their summed score), so the chart holds at most 2 (2 top_k + 2) rows at any C.

    mirrored: one panel, A's bars up, B's bars down. stacked: A's panel above B's, both upward.
    """
    if mode not in HIST_MODES:
        raise ValueError(f"mode must be one of {HIST_MODES}")
    df, shown = _scores_frame(scores_a, scores_b, class_names, label_a, label_b, truth, top_k)
    tooltip = ["model:N", "class:N", alt.Tooltip("score:Q", format=".3f")]
    if mode == "mirrored":
        bars = alt.Chart(df).mark_bar().encode(
            x=_class_x(shown),
            y=alt.Y("height:Q", scale=alt.Scale(domain=[-1, 1]), title=f"{label_b} ▼  ▲ {label_a}",
                    axis=alt.Axis(values=[-1, 0, 1], labelExpr="abs(datum.value)")),
            color=_model_color(label_a, label_b), tooltip=tooltip,
        )
        return alt.layer(_truth_band(shown, class_names[truth], -1, 1), bars).properties(width=width, height=height)
    panels = []
    for label in (label_a, label_b):
        bars = alt.Chart(df[df["model"] == label]).mark_bar().encode(
            x=_class_x(shown), color=_model_color(label_a, label_b), tooltip=tooltip,
            y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 1]), title=label, axis=alt.Axis(values=[0, 1])),
        )
        panels.append(alt.layer(_truth_band(shown, class_names[truth], 0, 1), bars)
                      .properties(width=width, height=height // 2))
    return alt.vconcat(*panels, spacing=4)


MAX_BARS = 30  # truth_distribution: guessed classes shown
MAX_TRUTHS = 8  # truth_distribution: true classes named per bar, the rest as OTHER


def _bar_cells(m: np.ndarray, bars: np.ndarray, max_truths: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(guess, truth, count) of the largest max_truths cells of each bar row; the rest of
    each row is one cell with truth -1 (OTHER)."""
    sub = m[bars]
    g, t = np.nonzero(sub)
    counts = sub[g, t]
    order = np.lexsort((t, -counts, g))
    g, t, counts = g[order], t[order], counts[order]
    rank = np.arange(len(g)) - np.searchsorted(g, g)
    keep = rank < max_truths
    rest = np.bincount(g[~keep], weights=counts[~keep], minlength=len(bars)).astype(np.int64)
    extra = np.flatnonzero(rest)
    return (np.r_[bars[g[keep]], bars[extra]], np.r_[t[keep], np.full(len(extra), -1)],
            np.r_[counts[keep], rest[extra]])


def truth_distribution(errors_a: np.ndarray, errors_b: np.ndarray, class_names: Sequence[str],
                       label_a: str = "A", label_b: str = "B", guesses: Sequence[str] | None = None,
                       width: int = 320, max_bars: int = MAX_BARS,
                       max_truths: int = MAX_TRUTHS) -> alt.FacetChart:
    """Errors per guessed class for A and B side by side, each bar split by the true labels behind it.

    errors_a / errors_b are C x C counts (row = guessed class, column = true class); only
    non-zero cells are sent. guesses orders the bars (default: class order); only the first
    max_bars guesses get a bar, and each bar names its max_truths largest true classes, the
    rest summed as OTHER, so the chart holds at most 2 max_bars (max_truths + 1) rows.
    """
    names = np.asarray(list(class_names) + [OTHER], dtype=object)
    index = {n: k for k, n in enumerate(class_names)}
    order = (list(guesses) if guesses is not None else list(class_names))[:max_bars]
    bars = np.asarray([index[n] for n in order], np.int64)
    frames = []
    for label, m in ((label_a, np.asarray(errors_a)), (label_b, np.asarray(errors_b))):
        g, t, count = _bar_cells(m, bars, max_truths)
        frames.append(pd.DataFrame({"model": label, "guess": names[g], "truth": names[t],
                                    "count": count.astype(int)}))
    df = pd.concat(frames, ignore_index=True)
    rows = max(len(order), 1)
    truths = [n for n in list(class_names) + [OTHER] if n in set(df["truth"])]
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("guess:N", sort=order, title="guessed class"),
        x=alt.X("sum(count):Q", title="errors"),
        color=alt.Color("truth:N", sort=truths, title="true class"),
        order=alt.Order("truth:N"),
        tooltip=["model:N", "guess:N", "truth:N", alt.Tooltip("count:Q", title="errors")],
    ).properties(width=width, height=min(18 * rows, 600)).facet(
        column=alt.Column("model:N", sort=[label_a, label_b], title=None),
    )
