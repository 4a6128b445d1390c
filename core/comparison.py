"""Comparison: two Predictions aligned on example ids, with the per-example status.

The query layer (filters, sorts, pages, error lists) is core.selection, the export of rows
core.export, the numbers core.evaluation; the methods here that views call forward to them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from core import selection
from core.errors import VersusError
from core.predictions import Predictions
from core.selection import SORTS, STATUS_FILTERS, ExampleFilter, page_count, page_of  # noqa: F401 (re-exported)

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
    pos = pd.Index(b.ids).get_indexer(a.ids)  # B's row of each of A's ids, -1 when absent
    in_b = pos >= 0
    shared = int(in_b.sum())
    if not intersect and (shared != a.n or shared != b.n):
        raise IdMismatch(a.n - shared, b.n - shared, shared)
    if shared == 0:
        raise VersusError("A and B have no example ids in common.")
    keep_a = np.flatnonzero(in_b)
    order_b = pos[keep_a].astype(np.int64)
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
    left_out: tuple[int, int] = (0, 0)  # A's and B's examples outside the shared ids (intersect)

    @classmethod
    def build(cls, a: Predictions, b: Predictions, intersect: bool = False) -> "Comparison":
        """Check classes, align on ids and compute the per-example status."""
        check_classes(a, b)
        a2, b2 = align(a, b, intersect=intersect)
        return cls(a2, b2, (a.n - a2.n, b.n - b2.n))

    def intersect_note(self) -> str | None:
        """The sentence saying what the intersection left out, when it left out anything."""
        only_a, only_b = self.left_out
        if not only_a and not only_b:
            return None
        return (f"Compared on the {self.n:,} ids A and B share: {only_a:,} of A's {self.n + only_a:,} examples and "
                f"{only_b:,} of B's {self.n + only_b:,} were left out (intersection).")

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
        return STATUS_LABELS[self.status]

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
    def ids_lower(self) -> pd.Series:
        """The ids lower-cased, as an Arrow-backed string column (one buffer, vectorized search)."""
        return pd.Series(pd.array(self.ids, dtype="string[pyarrow]")).str.lower()

    @property
    def ids_sort_key(self) -> np.ndarray:
        """The ids as an array np.argsort orders by text."""
        return self.ids

    # ---- the query layer lives in core.selection; these forward to it --------------------

    def status_mask(self, name: str) -> np.ndarray:
        """Boolean per example for a status filter name (selection.status_mask)."""
        return selection.status_mask(self, name)

    def select(self, f: ExampleFilter) -> np.ndarray:
        """Row indices passing the filter (selection.select)."""
        return selection.select(self, f)

    def sort(self, rows: np.ndarray, by: str, descending: bool = False) -> np.ndarray:
        """rows reordered by a SORTS key (selection.sort)."""
        return selection.sort(self, rows, by, descending)

    def errors(self, side: str, truth: tuple[int, ...] = (), guess: tuple[int, ...] = (),
               conf: tuple[float, float] = (0.0, 1.0), other: str = "any") -> np.ndarray:
        """Rows where side is wrong, narrowed (selection.errors)."""
        return selection.errors(self, side, truth, guess, conf, other)

    def errors_matrix(self, side: str) -> np.ndarray:
        """C x C counts of side's errors: row = guessed class, column = true class (from the
        Evaluation's confusion matrix, the one place it is computed)."""
        from core.evaluation import evaluation_of

        return evaluation_of(self).side(side).errors_matrix()

    def surest_error_per_guess(self, side: str) -> np.ndarray:
        """Per class: the row of side's most confident error guessing that class, or -1."""
        return selection.surest_error_per_guess(self, side)

    def errors_by_guess(self) -> pd.DataFrame:
        """Per guessed class: errors of A and of B, B minus A, and which model errs more
        (the Evaluation's errors per guess; selection.errors_by_guess)."""
        from core.evaluation import evaluation_of

        ev = evaluation_of(self)
        return selection.errors_by_guess(ev.a.errors_per_guess, ev.b.errors_per_guess, self.class_names)

    def table(self, rows: np.ndarray) -> pd.DataFrame:
        """The given rows as a table people read (export.examples_table)."""
        from core.export import examples_table

        return examples_table(self, rows)


STATUS_LABELS = np.array([STATUS_NAMES[k] for k in range(len(STATUS_NAMES))], dtype=object)
STATUS_CODES = {
    "fixed": [FIXED],
    "regressed": [REGRESSED],
    "both_wrong": [BOTH_WRONG_SAME, BOTH_WRONG_DIFF],
    "both_right": [BOTH_RIGHT],
}
