"""Confusion matrices at any class count: the JSON form (dense, or sparse above SPARSE_ABOVE
classes), the most-confused pairs of A and B, and the classes a submatrix should show."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

SPARSE_ABOVE = 100  # classes; above this summary.json stores confusion as nonzero cells
DENSE_UP_TO = 30  # classes; above this views and the report show pairs and a submatrix
TOP_PAIRS = 20
MAX_SUBMATRIX = 20
PAIR_ORDERS = {"count": "Most confused (A + B)", "change": "Largest change |B - A|",
               "worse": "Most worsened (B - A)", "better": "Most improved (A - B)"}
# A pair table's columns as tables show them (the report, the Confusion view).
PAIR_COLUMNS = {"truth": "truth", "guess": "guess", "a": "A", "b": "B", "change": "B - A"}

PairTable = pd.DataFrame


def to_json(cm: np.ndarray) -> list[list[int]] | dict[str, Any]:
    """A confusion matrix for summary.json: a list of rows up to SPARSE_ABOVE classes, else
    {"format": "sparse", "shape": [C, C], "truth": [...], "guess": [...], "count": [...]}
    holding the nonzero cells, truth-major."""
    cm = np.asarray(cm, np.int64)
    if cm.shape[0] <= SPARSE_ABOVE:
        return cm.tolist()
    t, g = np.nonzero(cm)
    return {"format": "sparse", "shape": list(cm.shape), "truth": t.tolist(), "guess": g.tolist(),
            "count": cm[t, g].tolist()}


def most_confused(cm_a: np.ndarray, cm_b: np.ndarray, class_names: Sequence[str], k: int | None = TOP_PAIRS,
                  by: str = "count") -> PairTable:
    """The k off-diagonal (truth, guess) cells that matter most (all of them when k is None), one
    row each: truth, guess, their indices, A's count, B's count and change = B - A.

    by "count": most examples in A and B together first; "change": largest |B - A| first;
    "worse": largest B - A first; "better": largest A - B first. Ties by A + B (by |B - A| for
    "count"), then class order."""
    if by not in PAIR_ORDERS:
        raise ValueError(f"by must be one of {', '.join(PAIR_ORDERS)}")
    cm_a, cm_b = np.asarray(cm_a, np.int64), np.asarray(cm_b, np.int64)
    off = cm_a + cm_b
    np.fill_diagonal(off, 0)
    t, g = np.nonzero(off)
    a, b = cm_a[t, g], cm_b[t, g]
    total = a + b
    primary = {"count": total, "change": np.abs(b - a), "worse": b - a, "better": a - b}[by]
    tie = np.abs(b - a) if by == "count" else total
    order = np.lexsort((g, t, -tie, -primary))[:k]
    names = np.asarray(class_names, dtype=object)
    t, g, a, b = t[order], g[order], a[order], b[order]
    return pd.DataFrame({"truth": names[t], "guess": names[g], "truth_index": t, "guess_index": g,
                         "a": a, "b": b, "change": b - a})


def involved_classes(pairs: PairTable, limit: int = MAX_SUBMATRIX) -> list[int]:
    """The classes of the pairs (truth and guess, in pair order, each once), at most limit,
    returned in class order: the rows and columns of the submatrix to show."""
    seen: dict[int, None] = {}
    for t, g in zip(pairs["truth_index"].tolist(), pairs["guess_index"].tolist()):
        for k in (t, g):
            if len(seen) < limit:
                seen.setdefault(int(k), None)
    return sorted(seen)


def submatrix(cm: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """The rows and columns of cm for the given classes (rows truth, columns guess)."""
    ks = np.asarray(classes, np.int64)
    return np.asarray(cm)[np.ix_(ks, ks)]
