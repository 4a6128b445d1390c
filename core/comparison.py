"""Comparison of two Predictions aligned on example ids."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from core.errors import VersusError
from core.predictions import Predictions

# Per-example status codes, in display order.
BOTH_RIGHT, FIXED, REGRESSED, BOTH_WRONG_SAME, BOTH_WRONG_DIFF = range(5)
STATUS_NAMES = {
    BOTH_RIGHT: "both_right",
    FIXED: "fixed",
    REGRESSED: "regressed",
    BOTH_WRONG_SAME: "both_wrong_same",
    BOTH_WRONG_DIFF: "both_wrong_different",
}


class IdMismatch(VersusError):
    """A and B were evaluated on different example ids."""

    def __init__(self, only_a: int, only_b: int, shared: int) -> None:
        self.only_a, self.only_b, self.shared = only_a, only_b, shared
        super().__init__(
            f"A and B do not cover the same examples: {only_a} ids are only in A, "
            f"{only_b} only in B, {shared} in both; compare on the intersection to go on."
        )


def check_classes(a: Predictions, b: Predictions) -> None:
    """Raise a clear error when A and B do not share the same class list."""
    if a.num_classes != b.num_classes:
        raise VersusError(
            f"A has {a.num_classes} classes and B has {b.num_classes}; "
            "both models must classify into the same classes."
        )
    if a.class_names != b.class_names:
        diff = [(x, y) for x, y in zip(a.class_names, b.class_names) if x != y][:3]
        shown = ", ".join(f"{x!r} vs {y!r}" for x, y in diff)
        raise VersusError(f"A and B name their classes differently ({shown}).")


def align(a: Predictions, b: Predictions, intersect: bool = False) -> tuple[Predictions, Predictions]:
    """Reorder B to A's id order; with intersect, keep only the ids both have."""
    if a.n == b.n and np.array_equal(a.ids, b.ids):
        _check_truth(a, b)
        return a, b
    pos_b = {k: i for i, k in enumerate(b.ids.tolist())}
    in_b = np.fromiter((k in pos_b for k in a.ids.tolist()), bool, count=a.n)
    shared = int(in_b.sum())
    if not intersect and (shared != a.n or shared != b.n):
        raise IdMismatch(a.n - shared, b.n - shared, shared)
    if shared == 0:
        raise VersusError("A and B have no example ids in common.")
    keep_a = np.flatnonzero(in_b)
    order_b = np.array([pos_b[k] for k in a.ids[keep_a].tolist()], dtype=np.int64)
    a2 = a if len(keep_a) == a.n else a.take(keep_a)
    b2 = b.take(order_b)
    _check_truth(a2, b2)
    return a2, b2


def _check_truth(a: Predictions, b: Predictions) -> None:
    """Raise when aligned A and B disagree on any true label."""
    if not np.array_equal(a.truth, b.truth):
        bad = int(np.sum(a.truth != b.truth))
        raise VersusError(f"A and B disagree on the true label of {bad} examples.")


@dataclass
class Comparison:
    """Two Predictions on the same examples, with per-example status."""

    a: Predictions
    b: Predictions

    @classmethod
    def build(cls, a: Predictions, b: Predictions, intersect: bool = False) -> "Comparison":
        """Check classes, align on ids and compute the per-example status."""
        check_classes(a, b)
        a, b = align(a, b, intersect=intersect)
        return cls(a, b)

    def __post_init__(self) -> None:
        ga, gb, t = self.a.guess, self.b.guess, self.a.truth
        ra, rb = ga == t, gb == t
        status = np.full(self.a.n, BOTH_RIGHT, dtype=np.int8)
        status[~ra & rb] = FIXED
        status[ra & ~rb] = REGRESSED
        status[~ra & ~rb & (ga == gb)] = BOTH_WRONG_SAME
        status[~ra & ~rb & (ga != gb)] = BOTH_WRONG_DIFF
        self.status = status
        self.disagree = ga != gb
        self.guess_a, self.guess_b = ga, gb

    @property
    def n(self) -> int:
        """Number of aligned examples."""
        return self.a.n

    @property
    def samples(self):
        """Images of the aligned rows: A's, or B's when A's source has none."""
        return self.a.samples if self.a.samples is not None else self.b.samples

    @property
    def class_names(self) -> list[str]:
        """The shared class names."""
        return self.a.class_names

    @property
    def truth(self) -> np.ndarray:
        """The shared true labels."""
        return self.a.truth

    @property
    def ids(self) -> np.ndarray:
        """The shared example ids, in A's order."""
        return self.a.ids

    def counts(self) -> dict[str, int]:
        """fixed / regressed / disagree / both_wrong (and the finer split) counts."""
        per = np.bincount(self.status, minlength=len(STATUS_NAMES))
        return {
            "both_right": int(per[BOTH_RIGHT]),
            "fixed": int(per[FIXED]),
            "regressed": int(per[REGRESSED]),
            "both_wrong": int(per[BOTH_WRONG_SAME] + per[BOTH_WRONG_DIFF]),
            "both_wrong_same": int(per[BOTH_WRONG_SAME]),
            "both_wrong_different": int(per[BOTH_WRONG_DIFF]),
            "disagree": int(self.disagree.sum()),
        }

    def status_names(self) -> np.ndarray:
        """Status of each example as a string."""
        names = np.array([STATUS_NAMES[k] for k in range(len(STATUS_NAMES))], dtype=object)
        return names[self.status]

    def guess(self, side: str) -> np.ndarray:
        """Top-1 guesses of side "a" or "b"."""
        return self.guess_a if side == "a" else self.guess_b

    def confidence(self, side: str) -> np.ndarray:
        """Score of the guessed class of side "a" or "b", per example."""
        return self._conf_a if side == "a" else self._conf_b

    @cached_property
    def _conf_a(self) -> np.ndarray:
        return self.a.scores[np.arange(self.n), self.guess_a]

    @cached_property
    def _conf_b(self) -> np.ndarray:
        return self.b.scores[np.arange(self.n), self.guess_b]

    @cached_property
    def truth_delta(self) -> np.ndarray:
        """B's score of the true class minus A's, per example."""
        rows = np.arange(self.n)
        return self.b.scores[rows, self.truth] - self.a.scores[rows, self.truth]

    @cached_property
    def _ids_lower(self) -> pd.Series:
        return pd.Series(self.ids, dtype="str").str.lower()

    @cached_property
    def _orders(self) -> dict[str, np.ndarray]:
        return {}

    def _order(self, by: str) -> np.ndarray:
        """Every row sorted ascending by a SORTS key (ties by row), computed once per key."""
        if by not in self._orders:
            keys = {"id": lambda: self.ids, "delta": lambda: self.truth_delta,
                    "conf_a": lambda: self._conf_a, "conf_b": lambda: self._conf_b}
            if by not in keys:
                raise VersusError(f"Unknown sort {by!r}; use one of {', '.join(SORTS)}.")
            self._orders[by] = np.argsort(keys[by](), kind="stable")
        return self._orders[by]

    @cached_property
    def _matrices(self) -> dict[str, np.ndarray]:
        return {}

    def status_mask(self, name: str) -> np.ndarray:
        """Boolean per example for a status filter name (see STATUS_FILTERS)."""
        if name not in STATUS_FILTERS:
            raise VersusError(f"Unknown status filter {name!r}; use one of {', '.join(STATUS_FILTERS)}.")
        if name == "all":
            return np.ones(self.n, dtype=bool)
        if name == "disagree":
            return self.disagree
        return np.isin(self.status, _STATUS_CODES[name])

    def select(self, f: "ExampleFilter") -> np.ndarray:
        """Row indices (ascending) of the examples that pass every part of the filter."""
        mask = self.status_mask(f.status)
        for values, column in ((f.truth, self.truth), (f.guess_a, self.guess_a), (f.guess_b, self.guess_b)):
            if values:
                mask = mask & np.isin(column, values)
        for (low, high), conf in ((f.conf_a, self._conf_a), (f.conf_b, self._conf_b)):
            if low > 0.0 or high < 1.0:
                mask = mask & (conf >= low) & (conf <= high)
        text = f.id_text.strip().lower()
        if text:
            mask = mask & self._ids_lower.str.contains(text, regex=False).to_numpy(dtype=bool)
        return np.flatnonzero(mask)

    def sort(self, rows: np.ndarray, by: str, descending: bool = False) -> np.ndarray:
        """rows reordered by a SORTS key; ties in row order (reversed when descending)."""
        order = self._order(by)
        keep = np.zeros(self.n, dtype=bool)
        keep[np.asarray(rows, dtype=np.int64)] = True
        out = order[keep[order]]
        return out[::-1] if descending else out

    def errors(self, side: str, truth: tuple[int, ...] = (), guess: tuple[int, ...] = (),
               conf: tuple[float, float] = (0.0, 1.0), other: str = "any") -> np.ndarray:
        """Row indices where side's guess is wrong, narrowed by truth / guess / confidence
        and by whether the other side is "right", "wrong" or "any" on the same example."""
        g = self.guess(side)
        mask = g != self.truth
        if truth:
            mask &= np.isin(self.truth, truth)
        if guess:
            mask &= np.isin(g, guess)
        if conf[0] > 0.0 or conf[1] < 1.0:
            c = self.confidence(side)
            mask &= (c >= conf[0]) & (c <= conf[1])
        if other != "any":
            other_right = self.guess("b" if side == "a" else "a") == self.truth
            mask &= other_right if other == "right" else ~other_right
        return np.flatnonzero(mask)

    def errors_matrix(self, side: str) -> np.ndarray:
        """C x C counts of side's errors: row = guessed class, column = true class."""
        if side not in self._matrices:
            c = len(self.class_names)
            g = self.guess(side)
            wrong = g != self.truth
            self._matrices[side] = np.bincount(g[wrong] * c + self.truth[wrong], minlength=c * c).reshape(c, c)
        return self._matrices[side].copy()

    def surest_error_per_guess(self, side: str) -> np.ndarray:
        """Per class: the row of side's most confident error guessing that class, or -1 if none."""
        rows = self.errors(side)
        surest = pd.Series(self.confidence(side)[rows]).groupby(self.guess(side)[rows]).idxmax()
        out = np.full(len(self.class_names), -1, dtype=np.int64)
        out[surest.index.to_numpy()] = rows[surest.to_numpy()]
        return out

    def errors_by_guess(self) -> pd.DataFrame:
        """Per guessed class: errors of A and of B, B minus A, and which model errs more;
        classes ordered by total errors (most first), then by class order."""
        ea = self.errors_matrix("a").sum(axis=1)
        eb = self.errors_matrix("b").sum(axis=1)
        more = np.where(ea > eb, "A", np.where(eb > ea, "B", "same"))
        table = pd.DataFrame({
            "guess": self.class_names, "errors_a": ea, "errors_b": eb,
            "b_minus_a": eb - ea, "more_mistakes": more,
        })
        order = np.lexsort((np.arange(len(ea)), -(ea + eb)))
        return table.iloc[order].reset_index(drop=True)

    def table(self, rows: np.ndarray) -> pd.DataFrame:
        """The given rows as a table people read: id, class names, status, confidences and
        every class score of A and of B."""
        rows = np.asarray(rows, dtype=np.int64)
        names = np.asarray(self.class_names, dtype=object)
        out = pd.DataFrame({
            "id": self.ids[rows],
            "truth": names[self.truth[rows]],
            "guess_a": names[self.guess_a[rows]],
            "guess_b": names[self.guess_b[rows]],
            "status": self.status_names()[rows],
            "confidence_a": self._conf_a[rows],
            "confidence_b": self._conf_b[rows],
            "truth_delta": self.truth_delta[rows],
        })
        scores = {f"score_a_{k}": self.a.scores[rows, j] for j, k in enumerate(self.class_names)}
        scores |= {f"score_b_{k}": self.b.scores[rows, j] for j, k in enumerate(self.class_names)}
        return pd.concat([out, pd.DataFrame(scores)], axis=1)


# Status filters people choose from, with their labels.
STATUS_FILTERS = {
    "disagree": "A and B disagree",
    "all": "All",
    "fixed": "Fixed (A wrong, B right)",
    "regressed": "Regressed (A right, B wrong)",
    "both_wrong": "Both wrong",
    "both_right": "Both right",
}
_STATUS_CODES = {
    "fixed": [FIXED],
    "regressed": [REGRESSED],
    "both_wrong": [BOTH_WRONG_SAME, BOTH_WRONG_DIFF],
    "both_right": [BOTH_RIGHT],
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


def page_of(rows: np.ndarray, page: int, size: int) -> np.ndarray:
    """The rows of 1-based page number page of the given size (empty past the end)."""
    start = (max(page, 1) - 1) * size
    return rows[start : start + size]


def page_count(total: int, size: int) -> int:
    """Number of pages of size needed for total rows (at least 1)."""
    return max(1, -(-total // size))
