"""Memory and time of an epoch series at the issue's scale: 20 checkpoints x 50,000 examples x
100 classes (target: within 4 GB). Each case runs in a fresh process and reports its peak RSS:
  - end to end: 20 TorchScript checkpoint files of a tiny linear classifier (100 classes; the
    model is cheap on purpose, memory is the point) evaluated in one pass over 50,000 synthetic
    8x8 images, reduced to the compact series, series.json computed;
  - what holding every score matrix would cost (20 x n x C float32), for comparison.
VERSUS_BENCH_SERIES_N and _T change n and the number of checkpoints."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

N = int(os.environ.get("VERSUS_BENCH_SERIES_N", 50_000))
T = int(os.environ.get("VERSUS_BENCH_SERIES_T", 20))
C = 100


def _make_checkpoints(folder: Path) -> None:
    import torch

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # jit is what older exports are saved as
        for e in range(1, T + 1):
            model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, C))
            torch.jit.save(torch.jit.script(model), str(folder / f"epoch_{e}.pt"))


def _case_end_to_end(folder: Path) -> str:
    import numpy as np

    from core.datasets import array_data
    from core.series import series_json
    from core.series_source import load_series, parse_series

    _make_checkpoints(folder)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 8, 8), dtype=np.uint8)
    truth = rng.integers(0, C, N)
    data = array_data("synthetic", images, truth, [f"x{i}" for i in range(N)], [f"c{k}" for k in range(C)],
                       "bench-series", (8, 8))
    before = _peak_mib()
    start = time.perf_counter()
    series = load_series(parse_series(folder=str(folder)), lambda: data, device="cpu", batch_size=1024)
    summary = series_json(series)
    secs = time.perf_counter() - start
    kept = series.guess.nbytes + series.confidence.nbytes
    return (f"end to end: {len(summary['checkpoints'])} checkpoints x {N:,} x {C}: {secs:.1f} s, "
            f"series keeps {kept / 2**20:.1f} MiB of guesses and confidences, "
            f"{before:,.0f} MiB peak before evaluating (torch, data, checkpoints)")


def _case_full_scores(_folder: Path) -> str:
    import numpy as np

    start = time.perf_counter()
    held = [np.random.default_rng(t).random((N, C), dtype=np.float32) for t in range(T)]
    secs = time.perf_counter() - start
    return f"every score matrix held: {sum(h.nbytes for h in held) / 2**20:.0f} MiB of scores, {secs:.1f} s to make"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def _child(case: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VERSUS_CACHE_DIR"] = str(Path(tmp) / "cache")
        (Path(tmp) / "ck").mkdir()
        line = {"end_to_end": _case_end_to_end, "full_scores": _case_full_scores}[case](Path(tmp) / "ck")
    print(f"  {line}; peak RSS {_peak_mib():,.0f} MiB (target 4,096)", flush=True)


def main() -> None:
    """Run each case in its own process so each peak is its own."""
    for case in ("end_to_end", "full_scores"):
        subprocess.run([sys.executable, "-c", f"from bench.series import _child; _child({case!r})"], check=True,
                       cwd=Path(__file__).resolve().parents[1])


if __name__ == "__main__":
    main()
