"""Calibration views: reliability bins of the top-1 confidence, and per-class score histograms.

Everything is binned on the server, so a view's size depends on the bin count, not on n.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics

RELIABILITY_BINS = 15
HISTOGRAM_BINS = 20
THIN_BIN = 20  # a reliability bin with fewer examples than this is merged or marked "thin"


@dataclass(frozen=True)
class Reliability:
    """Per confidence bin (lo, hi]: example count, mean top-1 confidence and accuracy (NaN if empty)."""

    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray


def reliability(truth: np.ndarray, scores: np.ndarray, bins: int = RELIABILITY_BINS) -> Reliability:
    """Reliability bins of one model (the same bins as metrics.expected_calibration_error)."""
    b = metrics.calibration_bins(truth, scores, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = b.confidence_sum / b.count
        acc = b.hits / b.count
    edges = np.arange(bins + 1) / bins
    return Reliability(edges[:-1], edges[1:], b.count, confidence, acc)


def merge_thin(r: Reliability, min_count: int = THIN_BIN) -> Reliability:
    """Empty bins dropped and adjacent bins merged left to right until each holds at least
    min_count examples (a thin remainder joins the bin on its left); means are re-weighted."""
    groups: list[list[int]] = []
    for k in np.flatnonzero(r.count > 0).tolist():
        if groups and sum(r.count[j] for j in groups[-1]) < min_count:
            groups[-1].append(k)
        else:
            groups.append([k])
    if len(groups) > 1 and sum(r.count[j] for j in groups[-1]) < min_count:
        groups[-2].extend(groups.pop())
    count = np.array([r.count[g].sum() for g in groups], np.int64)
    conf = np.array([(r.confidence[g] * r.count[g]).sum() for g in groups]) / np.maximum(count, 1)
    acc = np.array([(r.accuracy[g] * r.count[g]).sum() for g in groups]) / np.maximum(count, 1)
    return Reliability(np.array([r.lo[g[0]] for g in groups]), np.array([r.hi[g[-1]] for g in groups]),
                       count, conf, acc)


def reliability_frame(models: dict[str, Reliability], thin: int = THIN_BIN) -> pd.DataFrame:
    """Long table of the non-empty bins: model, lo, hi, count, confidence, accuracy, gap, and
    thin (fewer than `thin` examples: its accuracy is noise)."""
    parts = []
    for label, r in models.items():
        keep = r.count > 0
        parts.append(pd.DataFrame({
            "model": label, "lo": r.lo[keep], "hi": r.hi[keep], "count": r.count[keep],
            "confidence": r.confidence[keep], "accuracy": r.accuracy[keep],
            "gap": r.accuracy[keep] - r.confidence[keep], "thin": r.count[keep] < thin,
        }))
    return pd.concat(parts, ignore_index=True)


def score_histogram(truth: np.ndarray, score: np.ndarray, k: int, bins: int = HISTOGRAM_BINS
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Counts of one class's score in equal-width bins over [0, 1] (last bin closed), for the
    examples of class k and for the rest: two arrays of length bins."""
    which = np.clip((np.asarray(score, np.float64) * bins).astype(np.int64), 0, bins - 1)
    mine = np.asarray(truth) == k
    return (np.bincount(which[mine], minlength=bins), np.bincount(which[~mine], minlength=bins))


def histogram_frame(truth: np.ndarray, scores: dict[str, np.ndarray], k: int, class_name: str,
                    bins: int = HISTOGRAM_BINS) -> pd.DataFrame:
    """Long table of score histograms for class k: model, group, lo, hi, count, share of the group."""
    edges = np.arange(bins + 1) / bins
    parts = []
    for label, s in scores.items():
        for group, counts in zip((f"truth is {class_name}", "truth is another class"),
                                 score_histogram(truth, s[:, k], k, bins)):
            total = counts.sum()
            parts.append(pd.DataFrame({
                "model": label, "group": group, "lo": edges[:-1], "hi": edges[1:], "count": counts,
                "share": counts / total if total else np.zeros(bins),
            }))
    return pd.concat(parts, ignore_index=True)
