"""The query layer over a Comparison: filters, sorts, pages, and the error lists behind the
Errors and By guess views. Pure numpy over the aligned arrays; nothing here copies scores."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.errors import VersusError

if TYPE_CHECKING:
    from core.comparison import Comparison

# Status filters people choose from, with their labels.
STATUS_FILTERS = {
    "disagree": "A and B disagree",
    "all": "All",
    "fixed": "Fixed (A wrong, B right)",
    "regressed": "Regressed (A right, B wrong)",
    "both_wrong": "Both wrong",
    "both_right": "Both right",
}
# Sort keys people choose from, with their labels.
SORTS = {
    "delta": "B's true-class score minus A's",
    "conf_a": "A's confidence",
    "conf_b": "B's confidence",
    "id": "Id",
}


@dataclass(frozen=True)
class ExampleFilter:
    """Which examples to show: a status filter, class sets (empty = any class) for the
    truth and each side's guess, confidence ranges of A and B, and a text the id contains."""

    status: str = "disagree"
    truth: tuple[int, ...] = ()
    guess_a: tuple[int, ...] = ()
    guess_b: tuple[int, ...] = ()
    conf_a: tuple[float, float] = (0.0, 1.0)
    conf_b: tuple[float, float] = (0.0, 1.0)
    id_text: str = ""


def status_mask(cmp: "Comparison", name: str) -> np.ndarray:
    """Boolean per example for a status filter name (see STATUS_FILTERS)."""
    from core.comparison import STATUS_CODES

    if name not in STATUS_FILTERS:
        raise VersusError(f"Unknown status filter {name!r}; use one of {', '.join(STATUS_FILTERS)}.")
    if name == "all":
        return np.ones(cmp.n, dtype=bool)
    if name == "disagree":
        return cmp.disagree
    return np.isin(cmp.status, STATUS_CODES[name])


def id_contains(cmp: "Comparison", text: str) -> np.ndarray:
    """Boolean per example: the id contains text, ignoring case (vectorized over the ids)."""
    return cmp.ids_lower.str.contains(text.lower(), regex=False).to_numpy(dtype=bool, na_value=False)


def select(cmp: "Comparison", f: ExampleFilter) -> np.ndarray:
    """Row indices (ascending) of the examples that pass every part of the filter."""
    mask = status_mask(cmp, f.status)
    for values, column in ((f.truth, cmp.truth), (f.guess_a, cmp.guess_a), (f.guess_b, cmp.guess_b)):
        if values:
            mask = mask & np.isin(column, values)
    for (low, high), side in ((f.conf_a, "a"), (f.conf_b, "b")):
        if low > 0.0 or high < 1.0:
            conf = cmp.confidence(side)
            mask = mask & (conf >= low) & (conf <= high)
    text = f.id_text.strip()
    if text:
        mask = mask & id_contains(cmp, text)
    return np.flatnonzero(mask)


def order(cmp: "Comparison", by: str) -> np.ndarray:
    """Every row sorted ascending by a SORTS key (ties by row), computed once per key and kept."""
    orders = cmp.__dict__.setdefault("_sort_orders", {})
    if by not in orders:
        keys = {"id": lambda: cmp.ids_sort_key, "delta": lambda: cmp.truth_delta,
                "conf_a": lambda: cmp.confidence("a"), "conf_b": lambda: cmp.confidence("b")}
        if by not in keys:
            raise VersusError(f"Unknown sort {by!r}; use one of {', '.join(SORTS)}.")
        orders[by] = np.argsort(keys[by](), kind="stable")
    return orders[by]


def sort(cmp: "Comparison", rows: np.ndarray, by: str, descending: bool = False) -> np.ndarray:
    """rows reordered by a SORTS key; ties in row order (reversed when descending)."""
    full = order(cmp, by)
    keep = np.zeros(cmp.n, dtype=bool)
    keep[np.asarray(rows, dtype=np.int64)] = True
    out = full[keep[full]]
    return out[::-1] if descending else out


def errors(cmp: "Comparison", side: str, truth: tuple[int, ...] = (), guess: tuple[int, ...] = (),
           conf: tuple[float, float] = (0.0, 1.0), other: str = "any") -> np.ndarray:
    """Row indices where side's guess is wrong, narrowed by truth / guess / confidence
    and by whether the other side is "right", "wrong" or "any" on the same example."""
    g = cmp.guess(side)
    mask = g != cmp.truth
    if truth:
        mask &= np.isin(cmp.truth, truth)
    if guess:
        mask &= np.isin(g, guess)
    if conf[0] > 0.0 or conf[1] < 1.0:
        c = cmp.confidence(side)
        mask &= (c >= conf[0]) & (c <= conf[1])
    if other != "any":
        other_right = cmp.guess("b" if side == "a" else "a") == cmp.truth
        mask &= other_right if other == "right" else ~other_right
    return np.flatnonzero(mask)


def surest_error_per_guess(cmp: "Comparison", side: str) -> np.ndarray:
    """Per class: the row of side's most confident error guessing that class, or -1 if none."""
    rows = errors(cmp, side)
    surest = pd.Series(cmp.confidence(side)[rows]).groupby(cmp.guess(side)[rows]).idxmax()
    out = np.full(len(cmp.class_names), -1, dtype=np.int64)
    out[surest.index.to_numpy()] = rows[surest.to_numpy()]
    return out


def errors_by_guess(ea: np.ndarray, eb: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """Per guessed class (errors of A ea and of B eb): both counts, B minus A, and which model
    errs more; classes ordered by total errors (most first), then by class order."""
    more = np.where(ea > eb, "A", np.where(eb > ea, "B", "same"))
    table = pd.DataFrame({
        "guess": class_names, "errors_a": ea, "errors_b": eb,
        "b_minus_a": eb - ea, "more_mistakes": more,
    })
    return table.iloc[np.lexsort((np.arange(len(ea)), -(ea + eb)))].reset_index(drop=True)


def page_of(rows: np.ndarray, page: int, size: int) -> np.ndarray:
    """The rows of 1-based page number page of the given size (empty past the end)."""
    start = (max(page, 1) - 1) * size
    return rows[start : start + size]


def page_count(total: int, size: int) -> int:
    """Number of pages of size needed for total rows (at least 1)."""
    return max(1, -(-total // size))
