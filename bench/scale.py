"""The real CLI at real scale: `python -m core compare` on generated Parquet prediction files.

Two cases, each against the targets of issue #10: 50,000 rows x 1,000 classes (ImageNet-sized)
and 1,000,000 rows x 10 classes. Files are written once into a temporary folder (columns `id`,
`truth`, `score_<class>`, float32 probabilities; B is A with a share of rows changed so there
are fixed and regressed examples). Each compare runs in its own process: wall seconds, peak
resident memory of that process (ru_maxrss of the children), its CPU seconds, and the sizes of summary.json and
report.html are printed side by side with the targets.

`python -m bench scale` runs both; `python -m bench.scale small` runs a quick 5,000 x 1,000 /
100,000 x 10 pair to try the script.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# (name, rows, classes, max seconds, max peak MiB)
CASES = (("50k x 1000", 50_000, 1_000, 60.0, 2.5 * 1024), ("1M x 10", 1_000_000, 10, 20.0, 1.5 * 1024))
SMALL = (("5k x 1000", 5_000, 1_000, 60.0, 2.5 * 1024), ("100k x 10", 100_000, 10, 20.0, 1.5 * 1024))
MAX_SUMMARY_MB = 5.0
MAX_REPORT_MB = 8.0


def _scores(rng: np.random.Generator, truth: np.ndarray, classes: int, skill: float) -> np.ndarray:
    """Softmax scores (float32) whose top-1 is the truth for about `skill` of the rows."""
    n = len(truth)
    logits = rng.standard_normal((n, classes), dtype=np.float32)
    hit = rng.random(n) < skill
    logits[np.flatnonzero(hit), truth[hit]] += 6.0
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


def write_file(path: Path, n: int, classes: int, skill: float, seed: int) -> None:
    """A predictions Parquet file: id, truth, score_0..score_{classes-1}; the truth is seeded
    the same for every file so A and B describe the same examples."""
    truth = np.random.default_rng(0).integers(0, classes, n)
    scores = _scores(np.random.default_rng(seed), truth, classes, skill)
    ids = pa.array(np.char.add("ex", np.arange(n).astype(str)))
    columns = {"id": ids, "truth": pa.array(truth)}
    columns |= {f"score_{k}": pa.array(scores[:, k]) for k in range(classes)}
    pq.write_table(pa.table(columns), path)


def run_compare(a: Path, b: Path, out: Path) -> tuple[float, float, float, int]:
    """Run the CLI in a fresh process: (wall seconds, CPU seconds, peak MiB of that process,
    exit code). CPU seconds (user + system) stay meaningful on a busy machine."""
    cmd = [sys.executable, "-m", "core", "compare", "--a", str(a), "--b", str(b), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "(no stderr)", file=sys.stderr)
    return seconds, cpu, after.ru_maxrss / 1024, proc.returncode


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else float("nan")


def main(cases: tuple = CASES) -> None:
    """Run each case in a fresh `python -m bench.scale one N C` process (ru_maxrss of the
    children is a running maximum, so one process per case keeps each peak its own) and print
    the figures beside the targets."""
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall seconds grow with it)")
    print(f"{'case':<12}{'exit':>5}{'seconds':>9}{'cpu s':>7}{'target':>8}{'peak MiB':>10}{'target':>8}"
          f"{'summary MB':>12}{'target':>8}{'report MB':>11}{'target':>8}")
    for name, n, classes, max_s, max_mib in cases:
        cmd = [sys.executable, "-m", "bench.scale", "one", str(n), str(classes)]
        line = subprocess.run(cmd, capture_output=True, text=True)
        if line.returncode:
            print(f"{name:<12} failed: {line.stderr.strip().splitlines()[-1:]}")
            continue
        rc, seconds, cpu, peak, summary_mb, report_mb = line.stdout.split()[-6:]
        print(f"{name:<12}{rc:>5}{float(seconds):>9.1f}{float(cpu):>7.1f}{max_s:>8.0f}{float(peak):>10.0f}{max_mib:>8.0f}"
              f"{float(summary_mb):>12.2f}{MAX_SUMMARY_MB:>8.0f}{float(report_mb):>11.2f}{MAX_REPORT_MB:>8.0f}",
              flush=True)


def one(n: int, classes: int) -> None:
    """Write the two files of one case, run compare once, print its five figures."""
    with tempfile.TemporaryDirectory(prefix="versus-scale-") as tmp:
        root = Path(tmp)
        write_file(root / "a.parquet", n, classes, skill=0.7, seed=1)
        write_file(root / "b.parquet", n, classes, skill=0.75, seed=2)
        seconds, cpu, peak, rc = run_compare(root / "a.parquet", root / "b.parquet", root / "out")
        print(rc, f"{seconds:.2f}", f"{cpu:.2f}", f"{peak:.0f}", f"{_mb(root / 'out' / 'summary.json'):.3f}",
              f"{_mb(root / 'out' / 'report.html'):.3f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["one"]:
        one(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main(SMALL if sys.argv[1:2] == ["small"] else CASES)
