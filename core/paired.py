"""Paired tests on fixed vs regressed counts: McNemar's exact mid-p and Holm's adjustment.

Small stand-ins for core/evaluation.py (issue #12.1); the gate, the verdict and the slice
finder use them only when summary.json lacks the keys that module adds.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import binom

from core.comparison import FIXED, REGRESSED, Comparison


def midp(fixed: int, regressed: int) -> float:
    """Two-sided mid-p of the exact binomial test of fixed vs regressed (McNemar's exact
    test with the mid-p correction, Fagerland et al. 2013): 2 P(X < k) + P(X = k), X ~ Bin(n, 1/2),
    k = min(fixed, regressed), capped at 1; 1.0 when there are no discordant pairs."""
    n = int(fixed) + int(regressed)
    if n == 0:
        return 1.0
    k = min(int(fixed), int(regressed))
    return float(min(1.0, 2.0 * binom.cdf(k, n, 0.5) - binom.pmf(k, n, 0.5)))


def midp_many(fixed: np.ndarray, regressed: np.ndarray) -> np.ndarray:
    """midp for each pair of counts, vectorized."""
    fixed, regressed = np.asarray(fixed, np.int64), np.asarray(regressed, np.int64)
    n = fixed + regressed
    k = np.minimum(fixed, regressed)
    p = 2.0 * binom.cdf(k, n, 0.5) - binom.pmf(k, n, 0.5)
    return np.where(n == 0, 1.0, np.minimum(1.0, p))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, stepped)
    return out


def flip_rates(summary: dict[str, Any]) -> tuple[float, float]:
    """(negative, positive) flip rate: regressed / n and fixed / n, from summary["flips"] when
    present, else from the counts."""
    flips = summary.get("flips") or {}
    n = max(int(summary["n"]), 1)
    return (float(flips.get("negative_flip_rate", summary["regressed"] / n)),
            float(flips.get("positive_flip_rate", summary["fixed"] / n)))


def headline_midp(summary: dict[str, Any]) -> float:
    """McNemar's mid-p of the whole comparison: summary["mcnemar"]["midp_p_value"] or computed."""
    value = (summary.get("mcnemar") or {}).get("midp_p_value")
    return float(value) if value is not None else midp(summary["fixed"], summary["regressed"])


def per_class_rows(cmp: Comparison) -> list[dict[str, Any]]:
    """Per true class: fixed, regressed, mid-p and Holm-adjusted mid-p (the shape of
    summary.json's top-level per_class rows)."""
    c = len(cmp.class_names)
    fixed = np.bincount(cmp.truth[cmp.status == FIXED], minlength=c)
    regressed = np.bincount(cmp.truth[cmp.status == REGRESSED], minlength=c)
    p = midp_many(fixed, regressed)
    adj = holm(p)
    return [{"class": name, "fixed": int(fixed[k]), "regressed": int(regressed[k]),
             "p_value": float(p[k]), "p_value_holm": float(adj[k])} for k, name in enumerate(cmp.class_names)]


def class_rows(summary: dict[str, Any], cmp: Comparison | None = None) -> list[dict[str, Any]]:
    """summary["per_class"] rows when they carry the paired counts, else per_class_rows(cmp)."""
    rows = summary.get("per_class")
    if rows and all({"fixed", "regressed", "p_value_holm"} <= set(r) for r in rows):
        return rows
    if cmp is None:
        return []
    return per_class_rows(cmp)


def significantly_worse(rows: list[dict[str, Any]], alpha: float = 0.05) -> list[dict[str, Any]]:
    """The classes B made significantly worse: more regressed than fixed and Holm p < alpha."""
    return [r for r in rows if r["regressed"] > r["fixed"] and r["p_value_holm"] < alpha]
