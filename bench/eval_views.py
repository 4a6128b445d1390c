"""Build time and payload size of every evaluation view at 10k / 100k / 1M examples x 10 classes.

Payload: the Vega-Lite spec as JSON (data inlined), i.e. what goes to the browser.
"""
from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np

from core import calibration, curves, eval_charts, metrics
from core.cells import CellIndex, drill
from core.comparison import Comparison
from core.predictions import Predictions
from core.report import build_report
from core.summary import summarize

SIZES = (10_000, 100_000, 1_000_000)
CLASSES = 10


def _predictions(n: int, truth: np.ndarray, skill: float, seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
    logits[np.arange(n), truth] += skill
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Predictions(np.arange(n).astype(str), truth, e / e.sum(axis=1, keepdims=True),
                       [f"class{k}" for k in range(CLASSES)])


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _kib(chart) -> float:
    return len(json.dumps(chart.to_dict())) / 1024


def _row(name: str, seconds: float, payload_kib: float | None = None) -> None:
    size = f"{payload_kib:9.1f} KiB" if payload_kib is not None else " " * 13
    print(f"  {name:<34} {seconds * 1000:9.1f} ms  {size}", flush=True)


def bench_size(n: int) -> None:
    """Print build times and payload sizes of the views for n examples."""
    truth = np.random.default_rng(0).integers(0, CLASSES, n)
    cmp = Comparison.build(_predictions(n, truth, 1.0, 1), _predictions(n, truth, 1.6, 2))
    names = cmp.class_names
    print(f"n = {n:,} x {CLASSES} classes", flush=True)

    (cm_a, cm_b), t = _timed(lambda: (metrics.confusion(cmp.truth, cmp.a.guess, CLASSES),
                                      metrics.confusion(cmp.truth, cmp.b.guess, CLASSES)))
    chart, t2 = _timed(lambda: eval_charts.confusion_heatmap(cm_a, names, True, "A"))
    _row("confusion A+B + heatmap", t + t2, _kib(chart))
    chart, t = _timed(lambda: eval_charts.difference_heatmap(cm_a, cm_b, names, True))
    _row("difference heatmap", t, _kib(chart))
    (ia, ib), t = _timed(lambda: (CellIndex.build(cmp.truth, cmp.a.guess, CLASSES),
                                  CellIndex.build(cmp.truth, cmp.b.guess, CLASSES)))
    _row("cell index A+B", t)
    _, t = _timed(lambda: drill(ia, ib, cmp.a.guess, cmp.b.guess, 3, 5))
    _row("drill one cell", t)

    mc, t = _timed(lambda: {"A": curves.model_curves(cmp.truth, cmp.a.scores),
                            "B": curves.model_curves(cmp.truth, cmp.b.scores)})
    _row("ROC+PR curves, all classes, A+B", t)
    for kind in ("roc", "pr"):
        chart, t = _timed(lambda: eval_charts.curve_chart(curves.curve_frame(mc, names, kind, [0]), kind))
        _row(f"{kind} chart, one class", t, _kib(chart))

    frame, t = _timed(lambda: calibration.reliability_frame(
        {"A": calibration.reliability(cmp.truth, cmp.a.scores), "B": calibration.reliability(cmp.truth, cmp.b.scores)}))
    chart, t2 = _timed(lambda: eval_charts.reliability_chart(frame))
    _row("reliability A+B + chart", t + t2, _kib(chart))
    frame, t = _timed(lambda: calibration.histogram_frame(cmp.truth, {"A": cmp.a.scores, "B": cmp.b.scores}, 0, "class0"))
    chart, t2 = _timed(lambda: eval_charts.histogram_chart(frame))
    _row("score histograms A+B + chart", t + t2, _kib(chart))

    summary, t = _timed(lambda: summarize(cmp, "a", "b"))
    _row("summary (incl. McNemar, bootstrap)", t)
    html, t = _timed(lambda: build_report(cmp, summary))
    _row("report.html (no thumbnails)", t, len(html.encode()) / 1024)


def main() -> None:
    """Run every size."""
    for n in SIZES:
        bench_size(n)
