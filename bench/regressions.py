"""The Regressions page's work at 10k / 100k / 1M examples x 10 classes, 64-d features:
PCA map, k-means clusters, image properties (28x28 in memory), the slice finder, and the map's
payload drawn as density bins vs as (capped) points.

Payload: the Vega-Lite spec as JSON (data inlined), i.e. what goes to the browser.
"""
from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np
import pandas as pd

from core.comparison import Comparison
from core.embedding import density_frame, embed, map_status, point_frame
from core.embedding_chart import density_chart, points_chart
from core.image_stats import stats_of_array
from core.predictions import Predictions
from core.slices import clusters_of, find_slices

SIZES = (10_000, 100_000, 1_000_000)
CLASSES = 10


def _predictions(n: int, truth: np.ndarray, skill: float, seed: int, dim: int = 64) -> Predictions:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
    logits[np.arange(n), truth] += skill
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    feats = rng.normal(size=(n, dim)).astype(np.float32)
    return Predictions(np.arange(n).astype(str), truth, e / e.sum(axis=1, keepdims=True),
                       [f"class{k}" for k in range(CLASSES)], features=feats)


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _row(name: str, seconds: float, payload_kib: float | None = None) -> None:
    size = f"{payload_kib:9.1f} KiB" if payload_kib is not None else " " * 13
    print(f"  {name:<34} {seconds * 1000:9.1f} ms  {size}", flush=True)


def bench_size(n: int) -> None:
    """Print times and payload sizes for n examples."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, CLASSES, n)
    cmp = Comparison.build(_predictions(n, truth, 1.0, 1), _predictions(n, truth, 1.6, 2))
    print(f"n = {n:,} x {CLASSES} classes", flush=True)
    emb, t = _timed(lambda: embed(cmp, "b"))
    _row("PCA map (64-d -> 2-d)", t)
    clusters, t = _timed(lambda: clusters_of(emb.xy))
    _row("k-means clusters (8)", t)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    props, t = _timed(lambda: pd.DataFrame(stats_of_array(images)))
    _row("image properties (28x28)", t)
    extra = pd.DataFrame({"camera": rng.choice(["n", "s", "e", "w"], n)})
    found, t = _timed(lambda: find_slices(cmp, image_props=props, extra=extra, clusters=clusters))
    _row(f"slice finder ({len(found)} slices)", t)
    status = map_status(cmp)
    rows = np.arange(n)
    chart, t = _timed(lambda: density_chart(density_frame(emb.xy, status, rows)))
    _row("map as density bins", t, len(json.dumps(chart.to_dict())) / 1024)
    chart, t = _timed(lambda: points_chart(point_frame(emb.xy, status, rows, cmp.ids)))
    _row("map as points (capped at 5,000)", t, len(json.dumps(chart.to_dict())) / 1024)


def main() -> None:
    """Run every size."""
    for n in SIZES:
        bench_size(n)


if __name__ == "__main__":
    main()
