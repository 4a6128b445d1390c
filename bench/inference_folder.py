"""Pairs/s (both models on every image) on a generated JPEG ImageFolder (256x256, 10 classes),
one run side by side:

- versus: the whole `evaluate` call (list and hash the folder, load both checkpoints, the
  threaded loader, one pass for both models), cold cache;
- user loop: what a user writes: torchvision ImageFolder + DataLoader(batch 64, 2 workers),
  model A, then model B;
- compute limit: both models on already decoded and resized tensors (no decoding at all);
- Ray engine: the same evaluate with --engine ray on a local instance (Ray start excluded,
  shown apart).

Targets (CPU, 2 cores): versus >= 1.5x user loop for both models; resnet18 >= 0.85x compute
limit; Ray >= 0.6x versus. BENCH_SCALE=0.1 shrinks the image counts for a quick look."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.cache import ArrayCache
from core.datasets import load_data
from core.inference import InferenceOptions
from core.preprocessing import Preprocessing, apply
from core.sources import CheckpointSource, PrepOverrides, evaluate

CASES = (("resnet18", 512), ("mobilenet_v3_small", 2000))
SIZE = 224
BATCH = 64  # the user loop's batch; versus runs at its own default
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def make_folder(root: Path, n: int) -> Path:
    """n random-texture JPEGs of 256x256 in 10 class folders (smooth noise, so they compress like photos)."""
    rng = np.random.default_rng(0)
    for i in range(n):
        small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((256, 256), Image.BILINEAR)
        folder = root / f"class_{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        img.save(folder / f"img_{i:05d}.jpg", quality=90)
    return root


def make_checkpoints(arch: str, tmp: Path) -> list[Path]:
    """Two differently initialized checkpoints of arch (no download: random weights)."""
    import torchvision

    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = torchvision.models.get_model(arch, num_classes=10)
        path = tmp / f"{arch}_{seed}.pt"
        torch.save(model.state_dict(), path)
        paths.append(path)
    return paths


def _load(arch: str, path: Path) -> torch.nn.Module:
    import torchvision

    model = torchvision.models.get_model(arch, num_classes=10)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


def user_loop(arch: str, ckpts: list[Path], root: Path) -> float:
    """Seconds for ImageFolder + DataLoader(batch 64, 2 workers), A then B."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.Resize((SIZE, SIZE)), transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    start = time.perf_counter()
    for path in ckpts:
        model = _load(arch, path)
        loader = DataLoader(datasets.ImageFolder(str(root), tf), batch_size=BATCH, num_workers=2)
        with torch.no_grad():
            for x, _ in loader:
                torch.softmax(model(x), 1)
    return time.perf_counter() - start


def compute_limit(arch: str, ckpts: list[Path], root: Path, batch: int, channels_last: bool) -> float:
    """Seconds for both models on pre-decoded, resized, normalized tensors (decoding not timed),
    in the plain contiguous format or channels_last (what versus runs convolutional models in)."""
    data = load_data(f"imagefolder:{root}")
    prep = Preprocessing((SIZE, SIZE), 3, MEAN, STD)
    tensors = [apply(torch.from_numpy(np.stack([data.image(i) for i in range(lo, min(lo + batch, len(data)))]))
                     .permute(0, 3, 1, 2).float().div(255), prep) for lo in range(0, len(data), batch)]
    models = [_load(arch, p) for p in ckpts]
    if channels_last:
        models = [m.to(memory_format=torch.channels_last) for m in models]
        tensors = [x.contiguous(memory_format=torch.channels_last) for x in tensors]
    start = time.perf_counter()
    with torch.inference_mode():
        for x in tensors:
            for m in models:
                torch.softmax(m(x), 1)
    return time.perf_counter() - start


def versus(arch: str, ckpts: list[Path], root: Path, options: InferenceOptions) -> float:
    """Seconds for versus end to end: list and hash the folder, load, infer both, cold cache."""
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        data = load_data(f"imagefolder:{root}")
        evaluate([CheckpointSource(str(p), arch) for p in ckpts], data, PrepOverrides(size=(SIZE, SIZE)),
                 device="cpu", cache=ArrayCache(cache), options=options)
        return time.perf_counter() - start


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    print(f"cores: {len(os.sched_getaffinity(0))}, torch threads: {torch.get_num_threads()}, "
          f"load average at start: {os.getloadavg()[0]:.1f}")
    print("compute: both models on pre-decoded tensors at batch 64, plain (contiguous) / channels_last")
    print(f"{'model':<20}{'images':>7}{'versus':>9}{'user loop':>11}{'compute':>15}{'ray':>8}"
          f"{'vs/user':>9}{'vs/compute':>12}{'ray/vs':>8}   (pairs/s)")
    ray_started = None
    for arch, n in CASES:
        n = max(20, int(n * scale))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            root = make_folder(tmp / "data", n)
            ckpts = make_checkpoints(arch, tmp)
            versus(arch, ckpts, make_folder(tmp / "warm", 20), InferenceOptions())  # imports, first allocations
            t_versus = versus(arch, ckpts, root, InferenceOptions())
            t_user = user_loop(arch, ckpts, root)
            t_plain = compute_limit(arch, ckpts, root, BATCH, False)
            t_compute = compute_limit(arch, ckpts, root, BATCH, True)
            if ray_started is None:
                import ray

                start = time.perf_counter()
                ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, log_to_driver=False,
                         logging_level="ERROR")
                ray_started = time.perf_counter() - start
            t_ray = versus(arch, ckpts, root, InferenceOptions(engine="ray"))
        rates = [n / t for t in (t_versus, t_user, t_compute, t_ray, t_plain)]
        best = max(rates[2], rates[4])
        compute = f"{rates[4]:.1f} / {rates[2]:.1f}"
        print(f"{arch:<20}{n:>7}{rates[0]:>9.1f}{rates[1]:>11.1f}{compute:>15}{rates[3]:>8.1f}"
              f"{rates[0] / rates[1]:>9.2f}{rates[0] / rates[4]:>6.2f}/{rates[0] / best:<5.2f}"
              f"{rates[3] / rates[0]:>8.2f}", flush=True)
    print(f"Ray start (not in the ray column): {ray_started:.1f} s; load average at end: {os.getloadavg()[0]:.1f}")
    print("vs/compute: against the plain compute limit / against the best of both formats")
    print("targets: vs/user >= 1.5 (both), vs/compute >= 0.85 (resnet18), ray/vs >= 0.6")


if __name__ == "__main__":
    main()
