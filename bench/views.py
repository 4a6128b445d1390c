"""Side-by-side views at scale: Comparison build, each filter/sort/group a page does, bytes sent.

Synthetic A and B of 10k, 100k and 1M examples x 10 classes. Targets: any single filter
change (filter + sort of the result) on 1M rows under 150 ms; bytes sent independent of n.
"""
from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np

from core.pairs import errors_breakdown, top_k_scores
from core.view_charts import errors_breakdown_chart, topk_score_chart
from core.comparison import SORTS, Comparison, ExampleFilter, page_of
from core.predictions import Predictions
from core.thumbnails import thumbnail_urls

SIZES = (10_000, 100_000, 1_000_000)
CLASSES = 10
PAGE = 10
GRID = 24
REPEATS = 3


class _NoiseImages:
    """28x28 grey images made from the row number (what a page would thumbnail)."""

    fingerprint = "bench-noise"

    def image(self, i: int) -> np.ndarray:
        return np.random.default_rng(i).integers(0, 256, (28, 28), dtype=np.uint8)


def _pair(n: int) -> tuple[Predictions, Predictions]:
    rng = np.random.default_rng(n)
    truth = rng.integers(0, CLASSES, n)
    ids = np.char.add("ex", np.arange(n).astype(str)).astype(object)
    out = []
    for skill in (1.0, 2.5):
        logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
        logits[np.arange(n), truth] += skill
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        out.append(Predictions(ids, truth, e / e.sum(axis=1, keepdims=True), [f"class{k}" for k in range(CLASSES)],
                               samples=_NoiseImages()))
    return out[0], out[1]


def _ms(fn: Callable[[], object]) -> float:
    """Median wall time of fn in milliseconds."""
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def _filter_changes(cmp: Comparison) -> dict[str, Callable[[], object]]:
    """What the Examples page recomputes when one control changes: filter, then sort the result."""
    def change(flt: ExampleFilter, by: str = "delta", desc: bool = False) -> Callable[[], object]:
        return lambda: cmp.sort(cmp.select(flt), by, desc)

    return {
        "examples: status disagree (default)": change(ExampleFilter()),
        "examples: status all": change(ExampleFilter(status="all")),
        "examples: status both wrong": change(ExampleFilter(status="both_wrong")),
        "examples: true class 3": change(ExampleFilter(status="all", truth=(3,))),
        "examples: A guess 1,2 + B guess 2": change(ExampleFilter(status="all", guess_a=(1, 2), guess_b=(2,))),
        "examples: A conf 0.2-0.6": change(ExampleFilter(status="all", conf_a=(0.2, 0.6))),
        "examples: id contains '123'": change(ExampleFilter(status="all", id_text="123")),
        "examples: all, sort A conf desc": change(ExampleFilter(status="all"), "conf_a", True),
        "examples: all, sort id": change(ExampleFilter(status="all"), "id"),
        "errors: A and B, true 3 + conf": lambda: [cmp.errors(s, truth=(3,), conf=(0.1, 0.9)) for s in "ab"],
        "errors: A and B, other right": lambda: [cmp.errors(s, other="right") for s in "ab"],
        "by guess: table + matrices": lambda: (cmp.errors_by_guess(), cmp.errors_matrix("a"), cmp.errors_matrix("b")),
        "by guess: surest error per guess": lambda: [cmp.surest_error_per_guess(s) for s in "ab"],
        "by guess: open one guess": lambda: [cmp.errors(s, guess=(4,)) for s in "ab"],
    }


def _bytes(cmp: Comparison) -> dict[str, int]:
    """Bytes each page sends to the browser for its default view: charts, table page, thumbnails."""
    names = cmp.class_names
    rows = page_of(cmp.sort(cmp.select(ExampleFilter()), "delta"), 1, PAGE)
    charts = sum(len(json.dumps(topk_score_chart(top_k_scores(cmp.a.scores[i], cmp.b.scores[i], int(cmp.truth[i]),
                                                                names)).to_dict())) for i in rows[:5])
    table = len(cmp.table(rows).to_json(orient="records"))
    thumbs = sum(len(u or "") for u in thumbnail_urls(cmp.a.samples, rows))
    errors = [page_of(cmp.errors(s), 1, GRID) for s in "ab"]
    grid = sum(len(u or "") + 40 for r in errors for u in thumbnail_urls(cmp.a.samples, r, 72))
    top = list(np.argsort(-cmp.errors_matrix("b").sum(axis=1))[:5])
    by_guess = len(json.dumps(errors_breakdown_chart(errors_breakdown(cmp.errors_matrix("a"), cmp.errors_matrix("b"),
                                                                      names, top), [names[k] for k in top]).to_dict()))
    by_guess += len(cmp.errors_by_guess().to_json(orient="records"))
    surest = np.concatenate([cmp.surest_error_per_guess(s) for s in "ab"])
    by_guess += sum(len(u or "") for u in thumbnail_urls(cmp.a.samples, surest[surest >= 0]))
    by_guess += sum(len(u or "") + 30 for s in "ab" for u in thumbnail_urls(cmp.a.samples, cmp.errors(s, guess=(0,))[:12], 72))
    return {"examples": charts + table + thumbs, "errors": grid, "by guess": by_guess}


def main() -> None:
    """Print timings (ms) and page payloads (bytes) for each size."""
    timings: dict[str, list[float]] = {}
    payloads: dict[str, list[int]] = {}
    for n in SIZES:
        a, b = _pair(n)
        t0 = time.perf_counter()
        cmp = Comparison.build(a, b)
        timings.setdefault("build Comparison", []).append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        cmp.select(ExampleFilter(status="all", id_text="x"))
        timings.setdefault("first filter (confidences, id index)", []).append((time.perf_counter() - t0) * 1000)
        for by in SORTS:
            t0 = time.perf_counter()
            cmp.sort(np.arange(1), by)
            timings.setdefault(f"first sort by {by} (once)", []).append((time.perf_counter() - t0) * 1000)
        for name, fn in _filter_changes(cmp).items():
            timings.setdefault(name, []).append(_ms(fn))
        for name, size in _bytes(cmp).items():
            payloads.setdefault(name, []).append(size)
    header = "".join(f"{n:>12,}" for n in SIZES)
    print(f"{'ms (median of 3)':<40}{header}")
    for name, values in timings.items():
        print(f"{name:<40}" + "".join(f"{v:>12.1f}" for v in values))
    worst = max(v[-1] for k, v in timings.items() if k.startswith(("examples", "errors", "by guess")))
    print(f"slowest single filter change at {SIZES[-1]:,}: {worst:.1f} ms (target < 150 ms)")
    print(f"\n{'bytes sent per page (default view)':<40}{header}")
    for name, values in payloads.items():
        print(f"{name:<40}" + "".join(f"{v:>12,}" for v in values))
