"""Readers of the paired statistics that core/evaluation.py computes once and summary.json holds:
flip rates, the headline mid-p, and the per-class rows B made significantly worse."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.metrics import binomial_p_values


def midp_many(fixed: np.ndarray, regressed: np.ndarray) -> np.ndarray:
    """McNemar's exact mid-p of each pair of counts (core.metrics.binomial_p_values)."""
    return binomial_p_values(np.asarray(fixed), np.asarray(regressed))[1]


def flip_rates(summary: dict[str, Any]) -> tuple[float, float]:
    """(negative, positive) flip rate: regressed / n and fixed / n."""
    flips = summary["flips"]
    return float(flips["negative_flip_rate"]), float(flips["positive_flip_rate"])


def headline_midp(summary: dict[str, Any]) -> float:
    """McNemar's mid-p of the whole comparison."""
    return float(summary["mcnemar"]["midp_p_value"])


def class_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-class paired rows (class, fixed, regressed, p_value, p_value_holm, ...)."""
    return list(summary.get("per_class") or [])


def significantly_worse(rows: list[dict[str, Any]], alpha: float = 0.05) -> list[dict[str, Any]]:
    """The classes B made significantly worse: more regressed than fixed and Holm p < alpha."""
    return [r for r in rows if r["regressed"] > r["fixed"] and r["p_value_holm"] < alpha]
