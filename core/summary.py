"""The numbers of a comparison, shaped as DESIGN.md's summary.json."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core import metrics
from core.comparison import Comparison
from core.predictions import Predictions


def model_summary(p: Predictions, source: str) -> dict[str, Any]:
    """Accuracy, P/R/F1 (macro, micro, per class), confusion and calibration of one model."""
    cm = metrics.confusion(p.truth, p.guess, p.num_classes)
    rep = metrics.class_report(cm)
    return {
        "source": source,
        "accuracy": metrics.accuracy(p.truth, p.guess),
        "macro_f1": rep.macro_f1,
        "micro_f1": rep.micro_f1,
        "macro_precision": rep.macro_precision,
        "macro_recall": rep.macro_recall,
        "micro_precision": rep.micro_precision,
        "micro_recall": rep.micro_recall,
        "errors": int(np.sum(p.guess != p.truth)),
        "confusion": cm.tolist(),
        "ece": metrics.expected_calibration_error(p.truth, p.scores),
        "brier": metrics.brier_score(p.truth, p.scores),
        "per_class": [
            {
                "class": name,
                "precision": float(rep.precision[k]),
                "recall": float(rep.recall[k]),
                "f1": float(rep.f1[k]),
                "support": int(rep.support[k]),
            }
            for k, name in enumerate(p.class_names)
        ],
    }


def errors_by_guess(p: Predictions) -> dict[str, int]:
    """Number of errors per guessed class name."""
    wrong = p.guess != p.truth
    counts = np.bincount(p.guess[wrong], minlength=p.num_classes)
    return {name: int(counts[k]) for k, name in enumerate(p.class_names)}


def summarize(cmp: Comparison, source_a: str, source_b: str, **extra: Any) -> dict[str, Any]:
    """The whole summary.json dict for a comparison."""
    counts = cmp.counts()
    boot = metrics.paired_bootstrap(cmp.truth, cmp.a.guess, cmp.b.guess, len(cmp.class_names))
    mc = metrics.mcnemar(cmp.a.correct, cmp.b.correct)
    out: dict[str, Any] = {
        "n": cmp.n,
        "classes": list(cmp.class_names),
        "a": model_summary(cmp.a, source_a),
        "b": model_summary(cmp.b, source_b),
        "delta": {
            k: {"value": d.value, "ci95": [d.low, d.high]} for k, d in boot.items()
        },
        "fixed": counts["fixed"],
        "regressed": counts["regressed"],
        "disagree": counts["disagree"],
        "both_wrong": counts["both_wrong"],
        "mcnemar": {"statistic": mc.statistic, "p_value": mc.p_value, "exact": mc.exact},
        "errors_by_guess": {"a": errors_by_guess(cmp.a), "b": errors_by_guess(cmp.b)},
    }
    out.update(extra)
    return out


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


def per_class_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support of A and B, with B - A deltas."""
    rows = []
    for pa, pb in zip(summary["a"]["per_class"], summary["b"]["per_class"]):
        rows.append(
            {
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
        )
    return pd.DataFrame(rows)


def predictions_frame(cmp: Comparison) -> pd.DataFrame:
    """One row per example: id, truth, guess_a, guess_b, status, score_a_*, score_b_*."""
    names = cmp.class_names
    frame = pd.DataFrame(
        {
            "id": cmp.ids.astype(str),
            "truth": cmp.truth,
            "guess_a": cmp.a.guess,
            "guess_b": cmp.b.guess,
            "status": cmp.status_names().astype(str),
        }
    )
    scores = {f"score_a_{c}": cmp.a.scores[:, k] for k, c in enumerate(names)}
    scores.update({f"score_b_{c}": cmp.b.scores[:, k] for k, c in enumerate(names)})
    return pd.concat([frame, pd.DataFrame(scores)], axis=1)
