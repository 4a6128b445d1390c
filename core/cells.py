"""The examples behind every confusion cell, and the flips into and out of a cell from A to B."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CellIndex:
    """Row indices of every (truth, guess) cell of one confusion matrix, rows ascending per cell."""

    order: np.ndarray
    starts: np.ndarray
    num_classes: int

    @classmethod
    def build(cls, truth: np.ndarray, guess: np.ndarray, num_classes: int) -> "CellIndex":
        """Group the rows by cell once; any cell is then a slice."""
        cell = np.asarray(truth, np.int64) * num_classes + np.asarray(guess, np.int64)
        order = np.argsort(cell, kind="stable")
        counts = np.bincount(cell, minlength=num_classes * num_classes)
        return cls(order, np.r_[0, np.cumsum(counts)], num_classes)

    def rows(self, truth: int, guess: int) -> np.ndarray:
        """Rows whose true class is truth and guessed class is guess."""
        k = truth * self.num_classes + guess
        return self.order[self.starts[k] : self.starts[k + 1]]


@dataclass(frozen=True)
class CellDrill:
    """One cell (truth, guess) for A and B: its rows in A, in B, and the rows that moved.

    moved_in: in B's cell, A guessed something else; moved_out: in A's cell, B guesses something
    else. On the diagonal these are the fixed and the regressed examples of that class.
    """

    truth: int
    guess: int
    in_a: np.ndarray
    in_b: np.ndarray
    moved_in: np.ndarray
    moved_out: np.ndarray


def drill(index_a: CellIndex, index_b: CellIndex, guess_a: np.ndarray, guess_b: np.ndarray,
          truth: int, guess: int) -> CellDrill:
    """The rows behind cell (truth, guess) for A and B, and the flips between them."""
    in_a, in_b = index_a.rows(truth, guess), index_b.rows(truth, guess)
    return CellDrill(truth, guess, in_a, in_b,
                     moved_in=in_b[np.asarray(guess_a)[in_b] != guess],
                     moved_out=in_a[np.asarray(guess_b)[in_a] != guess])
