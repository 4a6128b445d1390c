"""Aggregations that keep the views bounded at many classes: classes ordered by how much they
changed, top-k scores of one example, and the errors behind each guessed class reduced to their
largest true classes (the most-confused pairs and submatrices are core.confusion's).

Every function returns data sized by what a screen shows (k, top, the classes picked), never by n.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

OTHER = "other"


def recall_change(cm_a: np.ndarray, cm_b: np.ndarray) -> np.ndarray:
    """Per class: B's recall minus A's (0 for a class without examples)."""
    support = np.asarray(cm_a).sum(axis=1)
    safe = np.maximum(support, 1)
    return (np.diag(cm_b) - np.diag(cm_a)) / safe


def changed_most(change: np.ndarray) -> np.ndarray:
    """Class indices ordered by the size of their change, largest first (NaN last, ties by index)."""
    size = np.abs(np.asarray(change, float))
    size[np.isnan(size)] = -1.0
    return np.lexsort((np.arange(len(size)), -size))


def worst_first(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """table sorted by column ascending (most regressed first), NaN last, stable."""
    return table.sort_values(column, ascending=True, na_position="last", kind="stable").reset_index(drop=True)


def top_k_scores(scores_a: np.ndarray, scores_b: np.ndarray, truth: int, class_names: Sequence[str],
                 k: int = 10) -> pd.DataFrame:
    """One example's scores as rows (class, A, B, is_truth, is_other): the top-k classes of A, of B
    and the truth, ordered by the larger of the two scores, then one 'other' row holding the sum
    of every remaining class (omitted when nothing remains)."""
    a, b = np.asarray(scores_a, float), np.asarray(scores_b, float)
    k = max(1, min(int(k), len(a)))
    keep = np.union1d(np.argsort(-a, kind="stable")[:k], np.argsort(-b, kind="stable")[:k])
    keep = np.union1d(keep, [int(truth)])
    keep = keep[np.lexsort((keep, -np.maximum(a[keep], b[keep])))]
    frame = pd.DataFrame({"class": [str(class_names[j]) for j in keep], "A": a[keep], "B": b[keep],
                          "is_truth": keep == int(truth), "is_other": False})
    rest = np.ones(len(a), dtype=bool)
    rest[keep] = False
    if rest.any():
        other = pd.DataFrame({"class": [f"{OTHER} ({int(rest.sum())} classes)"], "A": [a[rest].sum()],
                              "B": [b[rest].sum()], "is_truth": [False], "is_other": [True]})
        frame = pd.concat([frame, other], ignore_index=True)
    return frame


def errors_breakdown(errors_a: np.ndarray, errors_b: np.ndarray, class_names: Sequence[str],
                     guesses: Sequence[int], top_truths: int = 8) -> pd.DataFrame:
    """Long table (model, guess, truth, count) of the errors behind the given guessed classes
    (errors_* are C x C: row guessed class, column true class); per guess and model the
    top_truths largest true classes, the rest summed as 'other'. Zero counts are left out."""
    names = np.asarray(class_names, dtype=object)
    parts = []
    for label, m in (("A", np.asarray(errors_a)), ("B", np.asarray(errors_b))):
        for g in guesses:
            row = m[int(g)]
            nz = np.flatnonzero(row)
            nz = nz[np.lexsort((nz, -row[nz]))]
            head, tail = nz[:top_truths], nz[top_truths:]
            truths = list(names[head]) + ([OTHER] if len(tail) else [])
            counts = list(row[head]) + ([int(row[tail].sum())] if len(tail) else [])
            parts.append(pd.DataFrame({"model": label, "guess": names[int(g)], "truth": truths, "count": counts}))
    columns = ["model", "guess", "truth", "count"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return frame.astype({"count": np.int64})
