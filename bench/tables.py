"""Seconds and peak memory to load 10k, 100k and 200k-row W&B table folders.

Each folder is synthetic, written here in the quickstart layout (`id, image, guess, truth,
score_0..9`, images as image-file references) into a temporary folder; each load runs in a
fresh Python process so its peak resident memory is its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SIZES = (10_000, 100_000, 200_000)
CLASSES = 10
KEY = "test_predictions"

_LOAD = """
import json, resource, sys, time
from core.tables import load_table_file
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
p = load_table_file(sys.argv[1])
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": p.n, "seconds": seconds, "peak_mib": peak / 1024, "added_mib": (peak - base) / 1024}))
"""


def write_folder(root: Path, n: int, seed: int = 0) -> Path:
    """A run_table artifact folder with n rows (the table JSON only; images are read lazily)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, CLASSES))
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = rng.integers(0, CLASSES, n)
    rows = [[f"ex{i:07d}",
             {"_type": "image-file", "format": "png", "height": 28, "width": 28,
              "path": f"media/images/{i:020x}.png", "sha256": f"{i:064x}"},
             int(scores[i].argmax()), int(truth[i]), *scores[i].tolist()] for i in range(n)]
    doc = {"_type": "table", "columns": ["id", "image", "guess", "truth"] + [f"score_{k}" for k in range(CLASSES)],
           "data": rows, "ncols": 4 + CLASSES, "nrows": n, "log_mode": "IMMUTABLE"}
    folder = root / f"rows-{n}"
    folder.mkdir(parents=True)
    (folder / f"{KEY}.table.json").write_text(json.dumps(doc))
    return folder


def main() -> None:
    """Print load seconds and peak memory per table size."""
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="versus-bench-tables-") as tmp:
        for n in SIZES:
            # Written in a child process too: a parent's peak memory would carry into the loader's.
            subprocess.run([sys.executable, "-c", f"from pathlib import Path; from bench.tables import "
                            f"write_folder; write_folder(Path({tmp!r}), {n})"], cwd=repo, check=True)
            folder = Path(tmp) / f"rows-{n}"
            size = (folder / f"{KEY}.table.json").stat().st_size
            out = subprocess.run([sys.executable, "-c", _LOAD, str(folder)], cwd=repo, check=True,
                                 capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{n:>7,} rows ({size / 2**20:6.1f} MiB JSON): "
                  f"load {r['seconds']:5.2f} s, peak RSS {r['peak_mib']:6.0f} MiB "
                  f"(+{r['added_mib']:.0f} MiB over the interpreter with imports)", flush=True)
