"""Classification metrics, calibration and paired significance on plain arrays.

Functional core: every function takes integer labels / float scores and returns numbers or
arrays. Conventions follow scikit-learn (zero_division=0 for precision/recall/F1).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np


def confusion(truth: np.ndarray, guess: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion counts, rows truth and columns guess, shape (C, C)."""
    flat = np.asarray(truth, np.int64) * num_classes + np.asarray(guess, np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def accuracy(truth: np.ndarray, guess: np.ndarray) -> float:
    """Share of examples whose guess equals the truth."""
    truth = np.asarray(truth)
    return float(np.mean(truth == np.asarray(guess))) if len(truth) else 0.0


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


@dataclass(frozen=True)
class ClassReport:
    """Per-class and averaged precision, recall and F1 from one confusion matrix."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro_precision: float
    macro_recall: float
    macro_f1: float
    micro_precision: float
    micro_recall: float
    micro_f1: float


def class_report(cm: np.ndarray) -> ClassReport:
    """Precision, recall, F1 (per class, macro, micro) from a confusion matrix.

    Macro averages run over every class (as scikit-learn does when given all labels).
    """
    cm = np.asarray(cm, dtype=np.int64)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    total = cm.sum()
    micro = float(tp.sum() / total) if total else 0.0
    return ClassReport(
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        macro_precision=float(precision.mean()),
        macro_recall=float(recall.mean()),
        macro_f1=float(f1.mean()),
        micro_precision=micro,
        micro_recall=micro,
        micro_f1=micro,
    )


def macro_f1(truth: np.ndarray, guess: np.ndarray, num_classes: int) -> float:
    """Macro-averaged F1 over all classes."""
    return class_report(confusion(truth, guess, num_classes)).macro_f1


@dataclass(frozen=True)
class CalibrationBins:
    """Top-1 confidence in equal-width bins: per bin the count, confidence sum and hit count."""

    count: np.ndarray
    confidence_sum: np.ndarray
    hits: np.ndarray


def calibration_bins(truth: np.ndarray, scores: np.ndarray, bins: int = 15) -> CalibrationBins:
    """Bin the top-1 confidence into bins equal-width bins, (lo, hi], the first one [0, 1/bins]."""
    scores = np.asarray(scores)
    conf = scores.max(axis=1).astype(np.float64)
    hit = (scores.argmax(axis=1) == np.asarray(truth)).astype(np.float64)
    which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    return CalibrationBins(
        count=np.bincount(which, minlength=bins),
        confidence_sum=np.bincount(which, weights=conf, minlength=bins),
        hits=np.bincount(which, weights=hit, minlength=bins),
    )


def expected_calibration_error(
    truth: np.ndarray, scores: np.ndarray, bins: int = 15
) -> float:
    """ECE of the top-1 confidence: weighted mean |accuracy - confidence| over equal-width bins."""
    if len(scores) == 0:
        return 0.0
    b = calibration_bins(truth, scores, bins)
    return float(np.abs(b.hits - b.confidence_sum).sum() / b.count.sum())


def brier_score(truth: np.ndarray, scores: np.ndarray) -> float:
    """Multi-class Brier score: mean over examples of sum_k (p_k - onehot_k)^2."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return 0.0
    onehot = np.zeros_like(scores)
    onehot[np.arange(len(scores)), np.asarray(truth)] = 1.0
    return float(((scores - onehot) ** 2).sum(axis=1).mean())


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on the discordant pairs of two paired classifiers."""

    fixed: int  # A wrong, B right
    regressed: int  # A right, B wrong
    statistic: float
    p_value: float
    exact: bool


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray, exact_below: int = 25) -> McNemar:
    """McNemar's test: exact two-sided binomial when discordant pairs < exact_below,
    else the chi-square statistic with continuity correction.

    The statistic reported for the exact test is min(fixed, regressed).
    """
    a = np.asarray(correct_a, bool)
    b = np.asarray(correct_b, bool)
    fixed = int(np.sum(~a & b))
    regressed = int(np.sum(a & ~b))
    n = fixed + regressed
    if n == 0:
        return McNemar(fixed, regressed, 0.0, 1.0, True)
    if n < exact_below:
        k = min(fixed, regressed)
        tail = sum(comb(n, i) for i in range(k + 1)) / 2**n
        return McNemar(fixed, regressed, float(k), float(min(1.0, 2 * tail)), True)
    from scipy.stats import chi2

    stat = (abs(fixed - regressed) - 1) ** 2 / n
    return McNemar(fixed, regressed, float(stat), float(chi2.sf(stat, 1)), False)


@dataclass(frozen=True)
class PairedDelta:
    """A paired difference B - A with its bootstrap 95% interval."""

    value: float
    low: float
    high: float


def paired_bootstrap(
    truth: np.ndarray,
    guess_a: np.ndarray,
    guess_b: np.ndarray,
    num_classes: int,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, PairedDelta]:
    """Percentile bootstrap 95% interval of the change (B - A) in accuracy and macro-F1.

    Examples are resampled jointly for A and B with a fixed seed. Both metrics depend only on
    the counts of (truth, guess A, guess B) triples, so a resample of n examples is drawn as a
    multinomial over the distinct triples: exact, and independent of n in cost.
    """
    truth = np.asarray(truth, np.int64)
    guess_a = np.asarray(guess_a, np.int64)
    guess_b = np.asarray(guess_b, np.int64)
    n, c = len(truth), num_classes
    point = {
        "accuracy": accuracy(truth, guess_b) - accuracy(truth, guess_a),
        "macro_f1": macro_f1(truth, guess_b, c) - macro_f1(truth, guess_a, c),
    }
    if n == 0:
        return {k: PairedDelta(v, v, v) for k, v in point.items()}
    triples, counts = np.unique((truth * c + guess_a) * c + guess_b, return_counts=True)
    cell_a = triples // c  # truth * c + guess_a
    cell_b = (triples // (c * c)) * c + triples % c  # truth * c + guess_b
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples)
    deltas = np.empty((resamples, 2))
    for r in range(resamples):
        cm_a = np.bincount(cell_a, weights=draws[r], minlength=c * c).reshape(c, c)
        cm_b = np.bincount(cell_b, weights=draws[r], minlength=c * c).reshape(c, c)
        deltas[r, 0] = (np.trace(cm_b) - np.trace(cm_a)) / n
        deltas[r, 1] = class_report(cm_b).macro_f1 - class_report(cm_a).macro_f1
    out = {}
    for j, key in enumerate(("accuracy", "macro_f1")):
        lo, hi = np.percentile(deltas[:, j], [2.5, 97.5])
        out[key] = PairedDelta(point[key], float(lo), float(hi))
    return out
