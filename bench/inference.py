"""Images/s of versus's one-pass inference of two convnet checkpoints on 10,000 28x28 images,
against the W&B quickstart's plain loop (one model at a time, DataLoader with ToTensor,
batch 64, torch.no_grad). Target: pair ratio >= 1.33 (both models in versus take no more
time than the plain loop takes for one and a half)."""
from __future__ import annotations

import tempfile
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from core.architectures import ConvNet
from core.cache import ArrayCache
from core.datasets import EvalData
from core.demo import demo_checkpoints
from core.sources import CheckpointSource, evaluate

N = 10_000


class _QuickstartSet(Dataset):
    """What torchvision's MNIST does per item: a PIL image through ToTensor."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels
        self.tf = transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.tf(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def _plain_loop(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    loader = DataLoader(_QuickstartSet(images, labels), batch_size=64, shuffle=False)
    model.eval()
    start = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum())
    return time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, N)
    paths = demo_checkpoints()
    data = EvalData("bench", np.array([f"b{i}" for i in range(N)], dtype=object), labels,
                    [str(k) for k in range(10)], lambda i: images[i], "bench:random", (28, 28), 1,
                    (28, 28), array=images)
    models = []
    for p in (paths[0], paths[-1]):
        m = ConvNet()
        m.load_state_dict(torch.load(p, weights_only=True)["model_state_dict"])
        models.append(m)
    _plain_loop(models[0], images[:512], labels[:512])  # warm-up
    t_plain_a = _plain_loop(models[0], images, labels)
    t_plain_b = _plain_loop(models[1], images, labels)
    with tempfile.TemporaryDirectory() as tmp:
        srcs = [CheckpointSource(str(paths[0])), CheckpointSource(str(paths[-1]))]
        start = time.perf_counter()
        evaluate(srcs, data, device="cpu", cache=ArrayCache(tmp))
        t_versus = time.perf_counter() - start
        start = time.perf_counter()
        evaluate(srcs, data, device="cpu", cache=ArrayCache(tmp))
        t_cached = time.perf_counter() - start
    plain_pair = t_plain_a + t_plain_b
    print(f"threads: {torch.get_num_threads()}, images: {N} x 28x28, device cpu")
    print(f"plain loop, one model : {t_plain_a:6.2f} s  {N / t_plain_a:8.0f} images/s")
    print(f"plain loop, A then B  : {plain_pair:6.2f} s  {N / plain_pair:8.0f} pairs/s")
    print(f"versus, A and B       : {t_versus:6.2f} s  {N / t_versus:8.0f} pairs/s (cold cache, incl. loading)")
    print(f"versus, cached        : {t_cached:6.2f} s")
    print(f"pair ratio (versus pairs/s / plain pairs/s): {plain_pair / t_versus:.2f}  (target >= 1.33)")


if __name__ == "__main__":
    main()
