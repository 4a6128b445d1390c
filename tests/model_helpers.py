"""Tiny models trained a few steps on scikit-learn digits, for the model-source tests."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.datasets import digits_split


def digits_tensors(size: int | None = None, channels: int = 1, mean: float | None = None,
                   std: float | None = None, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Digits images as float N x C x H x W in [0, 1] (resized with torch's antialiased
    bilinear, optionally normalized) and their labels."""
    s = digits_split()
    idx = s[f"{split}_idx"]
    x = torch.from_numpy(s["images"][idx]).float().div(255.0).unsqueeze(1)
    if size is not None:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    if channels == 3:
        x = x.expand(-1, 3, -1, -1)
    if mean is not None:
        x = (x - mean) / std
    return x.contiguous(), torch.from_numpy(s["target"][idx]).long()


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 60,
          forward=None, lr: float = 3e-3) -> torch.nn.Module:
    """A few Adam steps on (x, y) with a fixed seed; forward maps a batch to logits."""
    torch.manual_seed(0)
    forward = forward or model
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(y), (128,), generator=gen)
        loss = F.cross_entropy(forward(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def guesses(forward, x: torch.Tensor) -> np.ndarray:
    """argmax of forward(x) without gradients."""
    with torch.no_grad():
        return forward(x).argmax(1).numpy()
