"""Comparison of two Predictions aligned on example ids."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    if not np.array_equal(a2.truth, b2.truth):
        bad = int(np.sum(a2.truth != b2.truth))
        raise VersusError(f"A and B disagree on the true label of {bad} examples.")
    return a2, b2


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

    @property
    def n(self) -> int:
        """Number of aligned examples."""
        return self.a.n

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
