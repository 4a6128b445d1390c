"""One-vs-rest ROC and precision-recall curves per class, with AUC and average precision.

The areas are computed on the full curves (as scikit-learn does); what is kept for drawing is
down-sampled to at most `max_points` points per curve, so the payload does not grow with n.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

MAX_POINTS = 200


@dataclass(frozen=True)
class Curve:
    """Points of one curve in drawing order, with the score threshold behind each point."""

    x: np.ndarray
    y: np.ndarray
    threshold: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


EMPTY = Curve(np.zeros(0), np.zeros(0), np.zeros(0))


@dataclass(frozen=True)
class ClassCurves:
    """ROC (x false-positive rate, y true-positive rate) and PR (x recall, y precision) of one
    class against the rest; auc / ap are NaN where the class or its rest is absent."""

    roc: Curve
    pr: Curve
    auc: float
    ap: float


def _nan_mean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(v[np.isfinite(v)].mean()) if np.isfinite(v).any() else float("nan")


@dataclass(frozen=True)
class ModelCurves:
    """ClassCurves of one model for every class, with the macro averages."""

    classes: list[ClassCurves]

    @property
    def macro_auc(self) -> float:
        """Mean ROC AUC over the classes where it is defined."""
        return _nan_mean([c.auc for c in self.classes])

    @property
    def macro_ap(self) -> float:
        """Mean average precision over the classes where it is defined."""
        return _nan_mean([c.ap for c in self.classes])


# True positives, false positives and thresholds of a binary scoring, thresholds decreasing.
Counts = tuple[np.ndarray, np.ndarray, np.ndarray]


def binary_counts(positive: np.ndarray, score: np.ndarray) -> Counts:
    """True and false positives at each distinct score threshold, thresholds decreasing."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score)
    order = np.argsort(-score)
    s = score[order]
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], len(s) > 0])
    tps = np.cumsum(positive[order], dtype=np.int64)[last]
    fps = last + 1 - tps
    return tps, fps, s[last]


def roc_points(counts: Counts) -> Curve:
    """The full ROC curve from (0, 0), like sklearn's roc_curve(drop_intermediate=False)."""
    tps, fps, thr = counts
    if len(tps) == 0 or tps[-1] == 0 or fps[-1] == 0:
        return EMPTY
    return Curve(np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]], np.r_[np.inf, thr])


def pr_points(counts: Counts) -> Curve:
    """The full precision-recall curve from (recall 0, precision 1), recall increasing."""
    tps, fps, thr = counts
    if len(tps) == 0 or tps[-1] == 0:
        return EMPTY
    return Curve(np.r_[0.0, tps / tps[-1]], np.r_[1.0, tps / (tps + fps)], np.r_[np.inf, thr])


def area(roc: Curve) -> float:
    """Area under a ROC curve (trapezoids); NaN for an empty curve."""
    return float(np.trapezoid(roc.y, roc.x)) if len(roc) else float("nan")


def average_precision(pr: Curve) -> float:
    """Sum over thresholds of recall gained times precision (sklearn's definition); NaN if empty."""
    return float(np.sum(np.diff(pr.x) * pr.y[1:])) if len(pr) else float("nan")


def downsample(curve: Curve, max_points: int = MAX_POINTS) -> Curve:
    """At most max_points points spread evenly along the curve's length, ends kept."""
    if len(curve) <= max_points:
        return curve
    step = np.hypot(np.diff(curve.x), np.diff(curve.y))
    length = np.r_[0.0, np.cumsum(step)]
    targets = np.linspace(0.0, length[-1], max_points)
    keep = np.unique(np.r_[0, np.searchsorted(length, targets).clip(0, len(curve) - 1), len(curve) - 1])
    return Curve(curve.x[keep], curve.y[keep], curve.threshold[keep])


SAMPLED_ABOVE = 100_000  # examples; above this curves are drawn through quantile thresholds


def class_curves(positive: np.ndarray, score: np.ndarray, max_points: int = MAX_POINTS) -> ClassCurves:
    """ROC and PR of one class against the rest, areas exact, points down-sampled.

    Above SAMPLED_ABOVE examples the points are those at 4 max_points quantiles of the score
    (each an exact point of the curve; one sort instead of an argsort and full cumsums)."""
    if len(score) > SAMPLED_ABOVE:
        return _sampled_curves(np.asarray(positive, bool), np.asarray(score), max_points)
    counts = binary_counts(positive, score)
    roc, pr = roc_points(counts), pr_points(counts)
    return ClassCurves(downsample(roc, max_points), downsample(pr, max_points), area(roc),
                       average_precision(pr))


def model_curves(truth: np.ndarray, scores: np.ndarray, max_points: int = MAX_POINTS,
                 classes: Sequence[int] | None = None,
                 known_areas: tuple[np.ndarray, np.ndarray] | None = None) -> ModelCurves:
    """One-vs-rest curves of every class for one model's scores (n x C).

    With classes, only those get their points; every other class gets empty curves and its
    areas from `areas` (exact, one sort per class, no per-class curve built), or from
    known_areas when the caller has them already."""
    truth = np.asarray(truth)
    if classes is None:
        return ModelCurves([class_curves(truth == k, scores[:, k], max_points) for k in range(scores.shape[1])])
    auc, ap = known_areas if known_areas is not None else areas(truth, scores)
    drawn = set(int(k) for k in classes)
    return ModelCurves([class_curves(truth == k, scores[:, k], max_points) if k in drawn
                        else ClassCurves(EMPTY, EMPTY, float(auc[k]), float(ap[k]))
                        for k in range(scores.shape[1])])


def areas(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC and average precision of every class against the rest (NaN where undefined),
    exactly as roc_auc_score / average_precision_score compute them, ties included.

    Per class, with its column sorted once: AUC = mean over (positive, negative) pairs of
    [negative < positive] + 1/2 [equal]; AP = mean over positives of the precision at that
    positive's score (everything scoring at least as high)."""
    truth = np.asarray(truth)
    n, c = scores.shape
    auc, ap = np.empty(c), np.empty(c)
    by_class = np.argsort(truth, kind="stable")
    starts = np.searchsorted(truth[by_class], np.arange(c + 1))
    for k in range(c):
        rows = by_class[starts[k] : starts[k + 1]]
        auc[k], ap[k] = _areas(np.sort(scores[:, k]), np.sort(scores[rows, k]))
    return auc, ap


def curve_frame(models: dict[str, ModelCurves], class_names: Sequence[str], kind: str,
                classes: Sequence[int] | None = None) -> pd.DataFrame:
    """Long table of curve points (model, class, x, y, threshold, order) for kind 'roc' or 'pr',
    rounded to 4 decimals for drawing."""
    if kind not in ("roc", "pr"):
        raise ValueError("kind must be 'roc' or 'pr'")
    ks = range(len(class_names)) if classes is None else classes
    parts = []
    for label, mc in models.items():
        for k in ks:
            c: Curve = getattr(mc.classes[k], kind)
            parts.append(pd.DataFrame({
                "model": label, "class": class_names[k], "x": c.x.round(4), "y": c.y.round(4),
                "threshold": np.where(np.isfinite(c.threshold), c.threshold, np.nan).round(4),
                "order": np.arange(len(c)),
            }))
    columns = ["model", "class", "x", "y", "threshold", "order"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def area_table(a: ModelCurves, b: ModelCurves, class_names: Sequence[str]) -> pd.DataFrame:
    """Per class and macro: ROC AUC and average precision of A and B, with B - A."""
    rows = [(name, ca.auc, cb.auc, ca.ap, cb.ap)
            for name, ca, cb in zip(class_names, a.classes, b.classes)]
    rows.append(("macro", a.macro_auc, b.macro_auc, a.macro_ap, b.macro_ap))
    df = pd.DataFrame(rows, columns=["class", "AUC A", "AUC B", "AP A", "AP B"])
    df.insert(3, "Δ AUC", df["AUC B"] - df["AUC A"])
    df["Δ AP"] = df["AP B"] - df["AP A"]
    return df


def _areas(column: np.ndarray, pos: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, AP) of one class from all its scores and its positives' scores, both sorted
    ascending; NaN where undefined (see `areas`)."""
    n, pos_n = len(column), len(pos)
    neg_n = n - pos_n
    if pos_n == 0:
        return float("nan"), float("nan")
    all_lt = np.searchsorted(column, pos, "left")
    all_le = np.searchsorted(column, pos, "right")
    pos_lt = np.searchsorted(pos, pos, "left")
    pos_le = np.searchsorted(pos, pos, "right")
    ap = float(np.mean((pos_n - pos_lt) / (n - all_lt)))
    if neg_n == 0:
        return float("nan"), ap
    neg_lt, neg_eq = all_lt - pos_lt, (all_le - all_lt) - (pos_le - pos_lt)
    return float((neg_lt + 0.5 * neg_eq).sum() / (pos_n * neg_n)), ap


def _sampled_curves(positive: np.ndarray, score: np.ndarray, max_points: int) -> ClassCurves:
    """class_curves for large n: points at quantile thresholds, exact areas."""
    column, pos = np.sort(score), np.sort(score[positive])
    n = len(column)
    thr = np.unique(column[np.linspace(0, n - 1, 4 * max_points).astype(np.int64)])[::-1]
    tps = len(pos) - np.searchsorted(pos, thr, "left")
    fps = (n - np.searchsorted(column, thr, "left")) - tps
    counts = (tps.astype(np.int64), fps.astype(np.int64), thr)
    auc, ap = _areas(column, pos)
    return ClassCurves(downsample(roc_points(counts), max_points), downsample(pr_points(counts), max_points),
                       auc, ap)
