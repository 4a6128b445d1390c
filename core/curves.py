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


def class_curves(positive: np.ndarray, score: np.ndarray, max_points: int = MAX_POINTS) -> ClassCurves:
    """ROC and PR of one class against the rest, areas exact, points down-sampled."""
    counts = binary_counts(positive, score)
    roc, pr = roc_points(counts), pr_points(counts)
    return ClassCurves(downsample(roc, max_points), downsample(pr, max_points), area(roc),
                       average_precision(pr))


def model_curves(truth: np.ndarray, scores: np.ndarray, max_points: int = MAX_POINTS) -> ModelCurves:
    """One-vs-rest curves of every class for one model's scores (n x C)."""
    truth = np.asarray(truth)
    return ModelCurves([class_curves(truth == k, scores[:, k], max_points) for k in range(scores.shape[1])])


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
