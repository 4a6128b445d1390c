"""What the preprocessing probe costs: evaluating the demo's two checkpoints on the digits
test set (540 images) and on 10,000 random 28x28 images, with and without the probe (cold
caches). Target: the probe adds at most a few seconds, whatever the size of the data (it
scores at most 512 examples per candidate)."""
from __future__ import annotations

import tempfile
import time

import numpy as np
import torch

from core.cache import ArrayCache
from core.datasets import EvalData, load_digits_test
from core.demo import demo_checkpoints
from core.sources import CheckpointSource, evaluate


def _timed(srcs: list[CheckpointSource], data: EvalData, probe: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        evaluate(srcs, data, device="cpu", cache=ArrayCache(tmp), probe=probe)
        return time.perf_counter() - start


def main() -> None:
    paths = demo_checkpoints()
    srcs = [CheckpointSource(str(paths[0])), CheckpointSource(str(paths[-1]))]
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8)
    big = EvalData("bench", np.array([f"b{i}" for i in range(len(images))], dtype=object),
                   rng.integers(0, 10, len(images)), [str(k) for k in range(10)], lambda i: images[i],
                   "bench:random", (28, 28), 1, (28, 28), array=images)
    print(f"threads: {torch.get_num_threads()}, device cpu, two convnet checkpoints")
    for name, data in (("digits test (540)", load_digits_test()), ("random 10,000", big)):
        _timed(srcs, data, False)  # warm-up
        off, on = _timed(srcs, data, False), _timed(srcs, data, True)
        print(f"{name:18}: without probe {off:6.2f} s, with probe {on:6.2f} s, probe adds {on - off:+.2f} s")


if __name__ == "__main__":
    main()
