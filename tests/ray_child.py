"""Run in a child process by test_ray_engine: the local engine and the Ray engine (a local
instance, num_cpus=2) on a two-size JPEG folder, both outputs saved for the test to compare.

Ray lives in this child because its native client ends a process that lost its cluster with
exit code 1 and no word (QuickExit); in the test process that would end the whole suite."""
import sys
import time
from pathlib import Path

import numpy as np
import ray
import torch
from PIL import Image

from core.architectures import ConvNet
from core.datasets import load_data
from core.errors import VersusError
from core.inference import run_models
from core.inference.ray_engine import _check_address, run_models_ray
from core.preprocessing import Preprocessing


class _Raises(torch.nn.Module):
    def forward(self, x):
        raise ValueError("no good")


def main(folder: Path, out: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(40):  # a JPEG folder of two sizes
        (folder / f"c{i % 4}").mkdir(exist_ok=True)
        size = (30, 30) if i % 3 else (20, 26)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"c{i % 4}" / f"{i}.jpg")
    data = load_data(f"imagefolder:{folder}")
    torch.manual_seed(0)
    models = [ConvNet(in_channels=3).eval(), ConvNet(in_channels=1).eval()]
    preps = [Preprocessing((28, 28), 3, (0.5,), (0.2,)), Preprocessing((28, 28), 1)]
    local = run_models(models, preps, data, torch.device("cpu"), batch_size=16, keep_features=True, names=["A", "B"])
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        started = time.perf_counter() - start
        _check_address(ray.get_runtime_context().gcs_address)  # a real cluster passes the greeting check
        remote = run_models_ray(models, preps, data, torch.device("cpu"), batch_size=16, keep_features=True,
                                names=["A", "B"])
        print(f"ray start {started:.1f} s, first run {time.perf_counter() - start - started:.1f} s")
        try:
            run_models_ray([_Raises()], [preps[1]], data, torch.device("cpu"), batch_size=16, names=["bad.pt"])
            error = ""
        except VersusError as exc:
            error = str(exc)
    finally:
        ray.shutdown()
    arrays = {}
    for side, (a, b) in zip("AB", zip(local, remote)):
        arrays |= {f"{side}_local_scores": a.scores, f"{side}_ray_scores": b.scores,
                   f"{side}_local_features": a.features, f"{side}_ray_features": b.features,
                   f"{side}_same_meta": np.array(a.meta == b.meta)}
    np.savez(out, error=np.array(error), **arrays)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
