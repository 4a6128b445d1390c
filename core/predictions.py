"""Predictions: one model's output on one evaluation set."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from core.errors import VersusError

ID_DTYPE = np.dtypes.StringDType()


def compact_ids(values: Any) -> np.ndarray:
    """Example ids as one numpy StringDType array: each id's text stored inline (up to 15 bytes)
    or in one shared arena, not as a Python object per example (a million short ids: 16 MB,
    not about 65 MB). Any value becomes its text, as str() writes it."""
    arr = np.asarray(values)
    if arr.dtype == ID_DTYPE:
        return arr
    if arr.dtype.kind in "SU":
        return arr.astype(ID_DTYPE)
    return arr.astype(object).astype(ID_DTYPE)


class Samples(Protocol):
    """Lazy access to the images behind a Predictions, by row index."""

    def image(self, i: int) -> np.ndarray:
        """Image i as uint8, HxW (gray) or HxWx3 (RGB)."""
        ...


@dataclass
class Predictions:
    """One model's softmax scores on one evaluation set, with the truth and class names."""

    ids: np.ndarray
    truth: np.ndarray
    scores: np.ndarray
    class_names: list[str]
    samples: Samples | None = None
    features: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    guess_override: np.ndarray | None = None
    extra: Any = None  # pandas DataFrame of a logged table's other columns, one row per example

    def __post_init__(self) -> None:
        self.ids = compact_ids(self.ids)
        self.truth = np.asarray(self.truth, dtype=np.int64)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        self.class_names = [str(c) for c in self.class_names]
        n, c = len(self.ids), len(self.class_names)
        if self.scores.ndim != 2 or self.scores.shape != (n, c):
            raise VersusError(
                f"Scores have shape {self.scores.shape} but there are {n} examples and {c} classes."
            )
        if len(self.truth) != n:
            raise VersusError(f"There are {len(self.truth)} labels for {n} examples.")
        if n and (self.truth.min() < 0 or self.truth.max() >= c):
            raise VersusError(f"A true label lies outside the {c} classes.")
        if len(set(self.ids.tolist())) != n:
            raise VersusError(_repeated_ids_message(self.ids.tolist(), self.meta.get("source")))

    @property
    def n(self) -> int:
        """Number of examples."""
        return len(self.ids)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @cached_property
    def guess(self) -> np.ndarray:
        """Top-1 guessed class per example (a logged guess when the source gave one)."""
        if self.guess_override is not None:
            return np.asarray(self.guess_override, dtype=np.int64)
        return self.scores.argmax(axis=1).astype(np.int64)

    @property
    def confidence(self) -> np.ndarray:
        """Score of the guessed class per example."""
        return self.scores[np.arange(self.n), self.guess]

    @property
    def correct(self) -> np.ndarray:
        """Boolean per example: guess equals truth."""
        return self.guess == self.truth

    def take(self, index: np.ndarray) -> "Predictions":
        """A new Predictions holding only the rows in index (samples follow the rows)."""
        index = np.asarray(index, dtype=np.int64)
        return Predictions(
            ids=self.ids[index],
            truth=self.truth[index],
            scores=self.scores[index],
            class_names=list(self.class_names),
            samples=_SubsetSamples(self.samples, index) if self.samples is not None else None,
            features=self.features[index] if self.features is not None else None,
            meta=dict(self.meta),
            guess_override=(
                np.asarray(self.guess_override)[index] if self.guess_override is not None else None
            ),
            extra=self.extra.iloc[index].reset_index(drop=True) if self.extra is not None else None,
        )


def _repeated_ids_message(ids: list[str], source: Any) -> str:
    """The sentence refusing repeated ids: the source when known and the first id repeated."""
    seen: set[str] = set()
    first = next(i for i in ids if i in seen or seen.add(i))
    where = f"{source}: e" if source else "E"
    return f"{where}xample ids are not unique: {first!r} appears {ids.count(first):,} times."


class _SubsetSamples:
    """Samples of a row subset, mapping back to the parent's rows."""

    def __init__(self, parent: Samples, index: np.ndarray) -> None:
        self.parent = parent
        self.index = index
        parent_fp = getattr(parent, "fingerprint", None) or str(id(parent))
        digest = hashlib.sha256(np.ascontiguousarray(index, dtype=np.int64).tobytes()).hexdigest()[:16]
        self.fingerprint = f"{parent_fp}[{digest}]"

    def image(self, i: int) -> np.ndarray:
        return self.parent.image(int(self.index[i]))
