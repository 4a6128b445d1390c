"""An epoch series: per-checkpoint metrics and per-example dynamics over checkpoints.

Pure numpy. Dynamics follow Toneva et al., "An Empirical Study of Example Forgetting during Deep
Neural Network Learning" (ICLR 2019): a forgetting event is an example right at checkpoint t and
wrong at t + 1. `learned_at` is the first checkpoint from which an example stays right to the end;
examples wrong at the last checkpoint (never right ones included) have none (-1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import VersusError
from core.metrics import class_report, confusion, expected_calibration_error

NOT_LEARNED = -1
# Filters other views can offer: name -> label. See dynamics_mask.
DYNAMICS_FILTERS = {
    "all": "all examples",
    "forgotten": "forgotten at least once",
    "learned_last": "learned at the last checkpoint",
    "never_learned": "never right at any checkpoint",
}


@dataclass(frozen=True)
class Dynamics:
    """Per-example paths over T checkpoints: correct is (T, n) bool."""

    correct: np.ndarray
    forgettings: np.ndarray  # (n,) forgetting events per example
    learned_at: np.ndarray  # (n,) first checkpoint from which it stays right, NOT_LEARNED if none
    never_right: np.ndarray  # (n,) bool
    always_right: np.ndarray  # (n,) bool

    @property
    def checkpoints(self) -> int:
        """Number of checkpoints T."""
        return int(self.correct.shape[0])

    def learned_counts(self) -> dict[str, int]:
        """{"<checkpoint index>": examples learned there}, only for examples that are learned."""
        learned = self.learned_at[self.learned_at != NOT_LEARNED]
        counts = np.bincount(learned, minlength=self.checkpoints)
        return {str(t): int(c) for t, c in enumerate(counts) if c}


def dynamics(correct: np.ndarray) -> Dynamics:
    """Forgetting events, never/always right and learned_at from a (checkpoints x n) correct matrix."""
    c = np.asarray(correct, dtype=bool)
    if c.ndim != 2 or c.shape[0] < 1:
        raise VersusError("A series needs at least one checkpoint.")
    t_count = c.shape[0]
    forgettings = (c[:-1] & ~c[1:]).sum(axis=0).astype(np.int64)
    # Last checkpoint at which the example is wrong; it is learned right after it (if right at the end).
    wrong_rev = ~c[::-1]
    any_wrong = wrong_rev.any(axis=0)
    last_wrong = np.where(any_wrong, t_count - 1 - wrong_rev.argmax(axis=0), -1)
    learned_at = np.where(c[-1], last_wrong + 1, NOT_LEARNED).astype(np.int64)
    return Dynamics(c, forgettings, learned_at, ~c.any(axis=0), c.all(axis=0))


def dynamics_mask(dyn: Dynamics, name: str) -> np.ndarray:
    """Boolean mask of the examples a DYNAMICS_FILTERS entry keeps (for Examples, Errors, Series)."""
    if name == "all":
        return np.ones(dyn.correct.shape[1], dtype=bool)
    if name == "forgotten":
        return dyn.forgettings > 0
    if name == "learned_last":
        return dyn.learned_at == dyn.checkpoints - 1
    if name == "never_learned":
        return dyn.never_right
    raise VersusError(f"Unknown dynamics filter {name!r}; use one of {', '.join(DYNAMICS_FILTERS)}.")


def path_string(correct_column: np.ndarray) -> str:
    """An example's path as text, one mark per checkpoint: ✓ right, ✗ wrong."""
    return "".join("✓" if x else "✗" for x in np.asarray(correct_column, bool))


@dataclass(frozen=True)
class CheckpointMetrics:
    """What the series keeps of one checkpoint's scores."""

    source: str
    epoch: int | None
    step: int | None
    accuracy: float
    macro_f1: float
    errors: int
    ece: float | None  # None when the scores are not real (one-hot from a logged guess)
    per_class_accuracy: np.ndarray  # recall per class

    def to_json(self) -> dict[str, Any]:
        """The series.json entry of this checkpoint."""
        out: dict[str, Any] = {"source": self.source, "epoch": self.epoch, "accuracy": self.accuracy,
                               "macro_f1": self.macro_f1, "errors": self.errors, "ece": self.ece}
        if self.step is not None:
            out["step"] = self.step
        return out


def checkpoint_metrics(source: str, epoch: int | None, step: int | None, truth: np.ndarray,
                       scores: np.ndarray, guess: np.ndarray, real_scores: bool = True) -> CheckpointMetrics:
    """Accuracy, macro-F1, errors, ECE and per-class accuracy of one checkpoint."""
    truth = np.asarray(truth, np.int64)
    guess = np.asarray(guess, np.int64)
    report = class_report(confusion(truth, guess, scores.shape[1]))
    right = int((truth == guess).sum())
    ece = expected_calibration_error(truth, scores) if real_scores else None
    return CheckpointMetrics(source, epoch, step, right / max(len(truth), 1), report.macro_f1,
                             len(truth) - right, ece, report.recall.astype(np.float32))


@dataclass
class Series:
    """A series evaluated on one set: guesses (T x n, small ints) and confidences (T x n,
    float16) per checkpoint, never the full score matrices."""

    ids: np.ndarray
    truth: np.ndarray
    class_names: list[str]
    guess: np.ndarray
    confidence: np.ndarray
    checkpoints: list[CheckpointMetrics]
    samples: Any = None
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # run behind a table series: offline_run / wandb_run

    @property
    def n(self) -> int:
        """Number of examples."""
        return len(self.ids)

    @property
    def correct(self) -> np.ndarray:
        """(T, n) bool: right at each checkpoint."""
        return self.guess == self.truth[None, :]

    def dynamics(self) -> Dynamics:
        """Per-example dynamics over the checkpoints (computed once per series)."""
        cached = self.__dict__.get("_dynamics")
        if cached is None:
            cached = self.__dict__["_dynamics"] = dynamics(self.correct)
        return cached

    def labels(self) -> list[str]:
        """Short label per checkpoint: "index: epoch N" (or "index: #index" when the epoch is unknown)."""
        out = []
        for t, ck in enumerate(self.checkpoints):
            tag = f"epoch {ck.epoch}" if ck.epoch is not None else f"#{t}"
            out.append(f"{t}: {tag}")
        return out


def compact_guess(guess: np.ndarray, num_classes: int) -> np.ndarray:
    """Guesses in the smallest integer type that holds every class."""
    return np.asarray(guess).astype(np.int16 if num_classes < 2 ** 15 else np.int32)


def series_json(s: Series) -> dict[str, Any]:
    """series.json: n, classes, checkpoints in series order, dynamics counts, warnings."""
    dyn = s.dynamics()
    return {
        "n": s.n,
        "classes": list(s.class_names),
        "checkpoints": [ck.to_json() for ck in s.checkpoints],
        "forgetting_events": int(dyn.forgettings.sum()),
        "never_right": int(dyn.never_right.sum()),
        "always_right": int(dyn.always_right.sum()),
        "learned_at": dyn.learned_counts(),
        "warnings": list(s.warnings),
    }


def series_frame_columns(s: Series) -> dict[str, np.ndarray]:
    """series.parquet columns: id, truth, guess_<t> per checkpoint, learned_at, forgettings."""
    dyn = s.dynamics()
    cols: dict[str, np.ndarray] = {"id": s.ids.astype(object), "truth": s.truth}
    for t in range(len(s.checkpoints)):
        cols[f"guess_{t}"] = s.guess[t]
    cols["learned_at"] = dyn.learned_at
    cols["forgettings"] = dyn.forgettings
    return cols


def per_class_matrix(s: Series, top: int = 30) -> tuple[np.ndarray, list[int]]:
    """(classes shown x T) per-class accuracy and the class indices shown: every class, or the
    `top` whose accuracy ranged most over the series, in class order."""
    m = np.stack([ck.per_class_accuracy for ck in s.checkpoints], axis=1)
    if m.shape[0] <= top:
        return m, list(range(m.shape[0]))
    spread = m.max(axis=1) - m.min(axis=1)
    shown = sorted(np.argsort(-spread, kind="stable")[:top].tolist())
    return m[shown], shown
