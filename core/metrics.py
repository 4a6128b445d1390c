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


def brier_score(truth: np.ndarray, scores: np.ndarray, chunk: int = 16384) -> float:
    """Multi-class Brier score: mean over examples of sum_k (p_k - onehot_k)^2.

    Computed as sum_k p_k^2 - 2 p_truth + 1, a block of rows at a time, so no n x C
    float64 copy is made."""
    if len(scores) == 0:
        return 0.0
    truth = np.asarray(truth)
    total = 0.0
    for start in range(0, len(scores), chunk):
        block = np.asarray(scores[start : start + chunk], dtype=np.float64)
        rows = np.arange(len(block))
        total += float((block * block).sum() - 2 * block[rows, truth[start : start + chunk]].sum() + len(block))
    return total / len(scores)


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on the discordant pairs of two paired classifiers.

    p_value is the classic test (exact below 25 discordant pairs, else chi-square with continuity
    correction), exact_p_value the exact binomial test and midp_p_value its mid-p version
    (Fagerland, Lydersen and Laake 2013), the recommended headline."""

    fixed: int  # A wrong, B right
    regressed: int  # A right, B wrong
    statistic: float
    p_value: float
    exact: bool
    exact_p_value: float = 1.0
    midp_p_value: float = 1.0


def binomial_p_values(fixed: np.ndarray, regressed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided exact McNemar p-values and their mid-p versions, elementwise.

    With m = min(fixed, regressed) and n = fixed + regressed under Binomial(n, 1/2):
    exact = min(1, 2 P(X <= m)); mid-p = 2 P(X <= m) - P(X = m) (Fagerland et al. 2013).
    Where n = 0 both are 1."""
    from scipy.special import bdtr, gammaln  # scipy.special: a fraction of scipy.stats' import time

    fixed = np.asarray(fixed, np.int64)
    regressed = np.asarray(regressed, np.int64)
    n = fixed + regressed
    m = np.minimum(fixed, regressed)
    cdf = bdtr(m, n, 0.5)
    pmf = np.exp(gammaln(n + 1) - gammaln(m + 1) - gammaln(n - m + 1) - n * np.log(2.0))
    exact = np.minimum(1.0, 2 * cdf)
    midp = np.minimum(1.0, 2 * cdf - pmf)
    empty = n == 0
    return np.where(empty, 1.0, exact), np.where(empty, 1.0, midp)


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray, exact_below: int = 25) -> McNemar:
    """McNemar's test: exact two-sided binomial when discordant pairs < exact_below,
    else the chi-square statistic with continuity correction; the exact and mid-p
    p-values are always given beside it.

    The statistic reported for the exact test is min(fixed, regressed).
    """
    a = np.asarray(correct_a, bool)
    b = np.asarray(correct_b, bool)
    fixed = int(np.sum(~a & b))
    regressed = int(np.sum(a & ~b))
    n = fixed + regressed
    exact_p, midp = (float(x) for x in binomial_p_values(np.array(fixed), np.array(regressed)))
    if n == 0:
        return McNemar(fixed, regressed, 0.0, 1.0, True, 1.0, 1.0)
    if n < exact_below:
        return McNemar(fixed, regressed, float(min(fixed, regressed)), exact_p, True, exact_p, midp)
    from scipy.special import chdtrc  # chi-square survival function

    stat = (abs(fixed - regressed) - 1) ** 2 / n
    return McNemar(fixed, regressed, float(stat), float(chdtrc(1, stat)), False, exact_p, midp)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1), in input order."""
    p = np.asarray(p, np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, stepped)
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in input order."""
    p = np.asarray(p, np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out


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
    t, ga, gb = triples // (c * c), (triples // c) % c, triples % c
    # Indicator matrices (distinct triples x classes): per resample, per-class true positives,
    # predictions and support are one sparse product each; no C x C matrix is built.
    ind = {key: _indicator(col, c) for key, col in
           (("tp_a", np.where(ga == t, t, -1)), ("tp_b", np.where(gb == t, t, -1)),
            ("pred_a", ga), ("pred_b", gb), ("support", t))}
    rng = np.random.default_rng(seed)
    deltas = np.empty((resamples, 2))
    block = max(1, min(resamples, 2_000_000 // max(len(triples), n if len(triples) > n // 4 else 1)))
    # Few distinct triples (few classes): a multinomial over them, cost independent of n.
    # Many (hundreds of classes): draw the n example indices, cheaper than a multinomial over
    # tens of thousands of categories; the two are the same distribution.
    by_index = len(triples) > n // 4
    example_triple = np.repeat(np.arange(len(triples)), counts) if by_index else None
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        if by_index:
            picks = example_triple[rng.integers(0, n, size=(size, n))]
            draws = np.stack([np.bincount(row, minlength=len(triples)) for row in picks]).astype(np.float64)
        else:
            draws = rng.multinomial(n, counts / n, size=size).astype(np.float64)
        per = {key: np.asarray((m.T @ draws.T).T) for key, m in ind.items()}
        f1 = {side: _f1(per[f"tp_{side}"], per[f"pred_{side}"], per["support"]) for side in "ab"}
        deltas[start : start + len(draws), 0] = (per["tp_b"].sum(1) - per["tp_a"].sum(1)) / n
        deltas[start : start + len(draws), 1] = f1["b"].mean(1) - f1["a"].mean(1)
    out = {}
    for j, key in enumerate(("accuracy", "macro_f1")):
        lo, hi = np.percentile(deltas[:, j], [2.5, 97.5])
        out[key] = PairedDelta(point[key], float(lo), float(hi))
    return out


def _indicator(column: np.ndarray, num_classes: int):
    """Sparse (len(column) x num_classes) 0/1 matrix, row i set at column[i] (none where -1)."""
    from scipy.sparse import csr_matrix

    keep = np.flatnonzero(column >= 0)
    return csr_matrix((np.ones(len(keep)), (keep, column[keep])), shape=(len(column), num_classes))


def _f1(tp: np.ndarray, predicted: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Per-class F1 (zero where undefined) from true positives, predictions and support, rowwise."""
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    return _safe_div(2 * precision * recall, precision + recall)
