"""The numbers of a comparison, shaped as DESIGN.md's summary.json."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.comparison import Comparison
from core.evaluation import evaluation_of


def summarize(cmp: Comparison, source_a: str, source_b: str, **extra: Any) -> dict[str, Any]:
    """The whole summary.json dict for a comparison: its Evaluation's to_json."""
    return evaluation_of(cmp).to_json(source_a, source_b, **extra)


def overview_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Headline metrics of A and B with the difference, one row per metric."""
    keys = [
        ("accuracy", "Accuracy"),
        ("macro_precision", "Macro precision"),
        ("macro_recall", "Macro recall"),
        ("macro_f1", "Macro F1"),
        ("micro_precision", "Micro precision"),
        ("micro_recall", "Micro recall"),
        ("micro_f1", "Micro F1"),
        ("ece", "ECE (lower is better)"),
        ("brier", "Brier (lower is better)"),
    ]
    a, b = summary["a"], summary["b"]
    return pd.DataFrame(
        {
            "metric": [label for _, label in keys],
            "A": [a[k] for k, _ in keys],
            "B": [b[k] for k, _ in keys],
            "B - A": [b[k] - a[k] for k, _ in keys],
        }
    )


def per_class_table(summary: dict[str, Any], limit: int | None = None) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support of A and B with B - A deltas, and (when the
    summary has them) the paired fixed / regressed counts and Holm-adjusted p-values; worst
    regressed first (regressed - fixed, then regressed), at most limit rows."""
    rows = []
    paired = summary.get("per_class") or [{}] * len(summary["a"]["per_class"])
    for pa, pb, pc in zip(summary["a"]["per_class"], summary["b"]["per_class"], paired):
        row = {
            "class": pa["class"],
            "support": pa["support"],
            "precision A": pa["precision"],
            "precision B": pb["precision"],
            "Δ precision": pb["precision"] - pa["precision"],
            "recall A": pa["recall"],
            "recall B": pb["recall"],
            "Δ recall": pb["recall"] - pa["recall"],
            "F1 A": pa["f1"],
            "F1 B": pb["f1"],
            "Δ F1": pb["f1"] - pa["f1"],
        }
        if pc:
            row |= {"fixed": pc["fixed"], "regressed": pc["regressed"], "p (Holm)": pc["p_value_holm"]}
        rows.append(row)
    table = pd.DataFrame(rows)
    if "regressed" in table:
        net = table["regressed"] - table["fixed"]
        order = np.lexsort((np.arange(len(table)), -table["regressed"].to_numpy(), -net.to_numpy()))
        table = table.iloc[order].reset_index(drop=True)
    return table if limit is None else table.head(limit)
