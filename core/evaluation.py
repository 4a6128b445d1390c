"""Evaluation: every number of a comparison, computed once from a Comparison.

summary.json is `Evaluation.to_json(...)`; the CLI, the report and the views read this object
(`evaluation_of(cmp)` builds it once per Comparison and keeps it on that object). The confusion
matrices and the errors per guessed class are computed here and nowhere else.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from core import calibration, confusion, curves, metrics
from core.comparison import Comparison
from core.errors import VersusError
from core.predictions import Predictions



@dataclass(frozen=True)
class ModelEvaluation:
    """One model's numbers: accuracy, class report, confusion (rows truth, columns guess),
    errors per guessed class, calibration."""

    accuracy: float
    report: metrics.ClassReport
    confusion: np.ndarray
    errors: int
    errors_per_guess: np.ndarray
    ece: float
    brier: float
    reliability: calibration.Reliability

    @classmethod
    def of(cls, p: Predictions) -> "ModelEvaluation":
        """Compute one model's numbers from its Predictions."""
        cm = metrics.confusion(p.truth, p.guess, p.num_classes)
        per_guess = cm.sum(axis=0) - np.diag(cm)
        return cls(
            accuracy=metrics.accuracy(p.truth, p.guess),
            report=metrics.class_report(cm),
            confusion=cm,
            errors=int(per_guess.sum()),
            errors_per_guess=per_guess,
            ece=metrics.expected_calibration_error(p.truth, p.scores),
            brier=metrics.brier_score(p.truth, p.scores),
            reliability=calibration.reliability(p.truth, p.scores),
        )

    def errors_matrix(self) -> np.ndarray:
        """C x C counts of this model's errors: row = guessed class, column = true class."""
        m = self.confusion.T.copy()
        np.fill_diagonal(m, 0)
        return m


@dataclass(frozen=True)
class PerClassPaired:
    """Per true class: fixed and regressed examples, McNemar p-values (exact and mid-p) on
    that class's examples, and the mid-p adjusted for testing every class with a flip (Holm,
    and Benjamini-Hochberg); classes without a flip keep p = 1 and are not counted as tests."""

    fixed: np.ndarray
    regressed: np.ndarray
    p_exact: np.ndarray
    p_value: np.ndarray
    p_holm: np.ndarray
    p_bh: np.ndarray

    @classmethod
    def of(cls, truth: np.ndarray, status: np.ndarray, num_classes: int) -> "PerClassPaired":
        """Count the flips per true class and test each class."""
        from core.comparison import FIXED, REGRESSED

        fixed = np.bincount(truth[status == FIXED], minlength=num_classes)
        regressed = np.bincount(truth[status == REGRESSED], minlength=num_classes)
        exact, midp = metrics.binomial_p_values(fixed, regressed)
        tested = (fixed + regressed) > 0
        holm, bh = np.ones(num_classes), np.ones(num_classes)
        holm[tested] = metrics.holm(midp[tested])
        bh[tested] = metrics.benjamini_hochberg(midp[tested])
        return cls(fixed, regressed, exact, midp, holm, bh)


@dataclass
class Evaluation:
    """The typed result of a comparison. Build with `Evaluation.of(cmp)` or, cached on the
    Comparison, `evaluation_of(cmp)`."""

    n: int
    class_names: list[str]
    a: ModelEvaluation
    b: ModelEvaluation
    delta: dict[str, metrics.PairedDelta]
    counts: dict[str, int]
    mcnemar: metrics.McNemar
    per_class: PerClassPaired
    warnings: list[str]
    _cmp: Comparison

    @classmethod
    def of(cls, cmp: Comparison) -> "Evaluation":
        """Every number of the comparison; refuses a comparison of 0 examples."""
        if cmp.n == 0:
            raise VersusError("A and B have no examples to compare.")
        c = len(cmp.class_names)
        return cls(
            n=cmp.n,
            class_names=list(cmp.class_names),
            a=ModelEvaluation.of(cmp.a),
            b=ModelEvaluation.of(cmp.b),
            delta=metrics.paired_bootstrap(cmp.truth, cmp.guess_a, cmp.guess_b, c),
            counts=cmp.counts(),
            mcnemar=metrics.mcnemar(cmp.a.correct, cmp.b.correct),
            per_class=PerClassPaired.of(cmp.truth, cmp.status, c),
            warnings=collect_warnings(cmp),
            _cmp=cmp,
        )

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def side(self, name: str) -> ModelEvaluation:
        """The ModelEvaluation of side "a" or "b"."""
        return self.a if name.lower() == "a" else self.b

    @property
    def negative_flip_rate(self) -> float:
        """Regressed examples (A right, B wrong) per example (Yan et al. 2021)."""
        return self.counts["regressed"] / self.n

    @property
    def positive_flip_rate(self) -> float:
        """Fixed examples (A wrong, B right) per example."""
        return self.counts["fixed"] / self.n

    @cached_property
    def curves(self) -> dict[str, curves.ModelCurves]:
        """ROC / PR curves of A and B (computed on first use): every class up to
        MAX_DRAWN_CURVES classes; above, exact areas for every class and points only for the
        MAX_DRAWN_CURVES classes whose AUC changed most (`curve_classes`; `class_curves`
        draws any other class on demand)."""
        return self.curves_at(curves.MAX_POINTS)

    def curves_at(self, max_points: int) -> dict[str, curves.ModelCurves]:
        """A's and B's curves of `curve_classes` with at most max_points points each (above
        MAX_DRAWN_CURVES classes, with the exact areas of every class)."""
        if self.num_classes <= MAX_DRAWN_CURVES:
            return model_curves_pair(self._cmp, max_points)
        return model_curves_pair(self._cmp, max_points, self.curve_classes, self.areas)

    @cached_property
    def areas(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Exact ROC AUC and average precision of every class, {"A": (auc, ap), "B": ...}."""
        return {"A": curves.areas(self._cmp.truth, self._cmp.a.scores),
                "B": curves.areas(self._cmp.truth, self._cmp.b.scores)}

    @cached_property
    def curve_classes(self) -> list[int]:
        """The classes whose curves `curves` holds points for (every class up to MAX_DRAWN_CURVES),
        in class order."""
        if self.num_classes <= MAX_DRAWN_CURVES:
            return list(range(self.num_classes))
        return auc_changed_most(self.areas, MAX_DRAWN_CURVES)

    def class_curves(self, side: str, k: int) -> curves.ClassCurves:
        """ROC / PR of class k for side "a" or "b", computed when `curves` has no points for it."""
        held = self.curves[side.upper()].classes[k]
        if len(held.roc) or len(held.pr) or np.isnan(held.auc) and np.isnan(held.ap):
            return held
        p = self._cmp.a if side.lower() == "a" else self._cmp.b
        return curves.class_curves(self._cmp.truth == k, p.scores[:, k])

    def pairs(self, k: int | None = confusion.TOP_PAIRS, by: str = "count") -> "confusion.PairTable":
        """The k most-confused (truth, guess) pairs of A and B in a confusion.PAIR_ORDERS order
        (worked out once per k and order: the Confusion view asks on every rerun)."""
        memo = self.__dict__.setdefault("_pairs", {})
        if (k, by) not in memo:
            memo[(k, by)] = confusion.most_confused(self.a.confusion, self.b.confusion, self.class_names, k, by)
        return memo[(k, by)]

    def to_json(self, source_a: str, source_b: str, **extra: Any) -> dict[str, Any]:
        """summary.json (docs/summary.md): today's keys, the statistics, and the extra keys."""
        counts, mc, pc = self.counts, self.mcnemar, self.per_class
        out: dict[str, Any] = {
            "n": self.n,
            "classes": list(self.class_names),
            "a": _model_json(self.a, self.class_names, source_a),
            "b": _model_json(self.b, self.class_names, source_b),
            "delta": {k: {"value": d.value, "ci95": [d.low, d.high]} for k, d in self.delta.items()},
            "fixed": counts["fixed"],
            "regressed": counts["regressed"],
            "disagree": counts["disagree"],
            "both_wrong": counts["both_wrong"],
            "mcnemar": {"statistic": mc.statistic, "p_value": mc.p_value, "exact": mc.exact,
                        "exact_p_value": mc.exact_p_value, "midp_p_value": mc.midp_p_value},
            "flips": {"negative_flip_rate": self.negative_flip_rate,
                      "positive_flip_rate": self.positive_flip_rate},
            "per_class": [
                {"class": name, "fixed": int(pc.fixed[k]), "regressed": int(pc.regressed[k]),
                 "p_value": float(pc.p_value[k]), "p_value_exact": float(pc.p_exact[k]),
                 "p_value_holm": float(pc.p_holm[k]), "p_value_bh": float(pc.p_bh[k])}
                for k, name in enumerate(self.class_names)
            ],
            "errors_by_guess": {side: dict(zip(self.class_names, m.errors_per_guess.tolist()))
                                for side, m in (("a", self.a), ("b", self.b))},
            "warnings": list(self.warnings),
        }
        out.update(extra)
        return out


def _model_json(m: ModelEvaluation, class_names: list[str], source: str) -> dict[str, Any]:
    rep = m.report
    return {
        "source": source,
        "accuracy": m.accuracy,
        "macro_f1": rep.macro_f1,
        "micro_f1": rep.micro_f1,
        "macro_precision": rep.macro_precision,
        "macro_recall": rep.macro_recall,
        "micro_precision": rep.micro_precision,
        "micro_recall": rep.micro_recall,
        "errors": m.errors,
        "confusion": confusion.to_json(m.confusion),
        "ece": m.ece,
        "brier": m.brier,
        "per_class": [
            {"class": name, "precision": float(rep.precision[k]), "recall": float(rep.recall[k]),
             "f1": float(rep.f1[k]), "support": int(rep.support[k])}
            for k, name in enumerate(class_names)
        ],
    }


def collect_warnings(cmp: Comparison) -> list[str]:
    """What the intersection left out, then the sentences of meta["warnings"] of A and of B,
    each once, prefixed with its side."""
    note = cmp.intersect_note()
    out: list[str] = [note] if note else []
    for side, p in (("A", cmp.a), ("B", cmp.b)):
        for text in p.meta.get("warnings") or []:
            line = f"{side}: {text}"
            if line not in out:
                out.append(line)
    return out


MAX_DRAWN_CURVES = 20


def auc_changed_most(areas: dict[str, tuple[np.ndarray, np.ndarray]], limit: int) -> list[int]:
    """The limit classes whose ROC AUC changed most from A to B (areas as Evaluation.areas; a
    class without an AUC last), in class order."""
    change = np.nan_to_num(np.abs(areas["B"][0] - areas["A"][0]), nan=-1)
    return sorted(np.argsort(-change, kind="stable")[:limit].tolist())


def model_curves_pair(cmp: Comparison, max_points: int = curves.MAX_POINTS, shown: list[int] | None = None,
                      known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, curves.ModelCurves]:
    """A's and B's curves: every class, or (shown given) points only for the shown classes and
    exact areas for every class (known, as Evaluation.areas)."""
    if shown is None or known is None:
        return {"A": curves.model_curves(cmp.truth, cmp.a.scores, max_points),
                "B": curves.model_curves(cmp.truth, cmp.b.scores, max_points)}
    return {side: curves.model_curves(cmp.truth, p.scores, max_points, shown, known[side])
            for side, p in (("A", cmp.a), ("B", cmp.b))}


_CACHE_ATTR = "_versus_evaluation"
_LOCK_ATTR = "_versus_evaluation_lock"
_LOCKS = threading.Lock()  # guards the creation of each comparison's own lock


def _lock_of(cmp: Comparison) -> threading.Lock:
    """The comparison's own lock: threads asking for one comparison wait for each other, never
    for another comparison."""
    with _LOCKS:
        return cmp.__dict__.setdefault(_LOCK_ATTR, threading.Lock())


def evaluation_of(cmp: Comparison) -> Evaluation:
    """The Evaluation of cmp, computed on first call and kept on the Comparison object (so a
    cached Comparison gives a cached Evaluation; no streamlit needed). Threads asking at once
    for the same comparison (two sessions, a page and the warm-up) compute it once."""
    cached = cmp.__dict__.get(_CACHE_ATTR)
    if cached is None:
        with _lock_of(cmp):
            cached = cmp.__dict__.get(_CACHE_ATTR)
            if cached is None:
                cached = Evaluation.of(cmp)
                cmp.__dict__[_CACHE_ATTR] = cached
    return cached


def warm(cmp: Comparison) -> None:
    """Compute what the views will ask for first (the Evaluation and its curves) ahead of them,
    at low priority: meant for a background thread while a person reads the first page."""
    try:  # Linux: a thread's own nice value, so a click still gets the CPU first
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
    try:
        _ = evaluation_of(cmp).curves
    except Exception:  # noqa: BLE001 - a page that needs them computes them and reports any error
        pass
