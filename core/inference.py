"""Batched inference of one or more models in one pass over the evaluation data."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.datasets import EvalData
from core.errors import VersusError, first_line
from core.preprocessing import Preprocessing, apply, batch_to_tensor, to_tensor

Progress = Callable[[int, int, float], None]  # (done, total, images per second)


@dataclass
class ModelOutput:
    """Softmax scores (float32, n x C) and optional penultimate features of one model."""

    scores: np.ndarray
    features: np.ndarray | None


def pick_device(name: str = "auto") -> torch.device:
    """auto picks CUDA when present; cuda without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise VersusError("Device cuda was asked for, but no CUDA GPU is available here.")
    if name not in ("cpu", "cuda"):
        raise VersusError(f"Device {name!r} is not one of auto, cpu, cuda.")
    return torch.device(name)


def _classifier_input_hook(model: nn.Module, store: list) -> torch.utils.hooks.RemovableHandle | None:
    """Hook on the last Linear layer that records its input (the penultimate features)."""
    last = None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            last = m
    if last is None:
        return None
    return last.register_forward_hook(lambda _m, inp, _out: store.append(inp[0].flatten(1).float().cpu()))


def _decode(data: EvalData, lo: int, hi: int) -> torch.Tensor | list[torch.Tensor]:
    """Rows lo..hi as one float batch (in-memory sets) or a list of CxHxW tensors."""
    if data.array is not None:
        return batch_to_tensor(data.array[lo:hi])
    return [to_tensor(data.image(i)) for i in range(lo, hi)]


def _collate(tensors: torch.Tensor | list[torch.Tensor], size: tuple[int, int] | None) -> torch.Tensor:
    """Stack CxHxW tensors, resizing each to size first when their sizes differ."""
    if isinstance(tensors, torch.Tensor):
        return tensors
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) == 1:
        return torch.stack(tensors)
    if size is None:
        raise VersusError("The images differ in size; choose a resize size (--size H[xW]).")
    channels = max(t.shape[0] for t in tensors)
    out = []
    for t in tensors:
        t = t.expand(channels, -1, -1) if t.shape[0] != channels else t
        out.append(F.interpolate(t[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0])
    return torch.stack(out)


def run_models(
    models: list[nn.Module],
    preps: list[Preprocessing],
    data: EvalData,
    device: torch.device,
    batch_size: int = 256,
    keep_features: bool = False,
    progress: Progress | None = None,
) -> list[ModelOutput]:
    """Evaluate every model on data in one pass: each batch is decoded once and preprocessed
    once per distinct Preprocessing, then fed to the models that share it."""
    if batch_size < 1:
        raise VersusError("Batch size must be at least 1.")
    groups: dict[Preprocessing, list[int]] = {}
    for j, p in enumerate(preps):
        groups.setdefault(p, []).append(j)
    for m in models:
        m.eval().to(device)
    scores: list[list[np.ndarray]] = [[] for _ in models]
    feats: list[list[torch.Tensor]] = [[] for _ in models]
    hooks = [(_classifier_input_hook(m, feats[j]) if keep_features else None) for j, m in enumerate(models)]
    n = len(data)
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            for lo in range(0, n, batch_size):
                raw = _decode(data, lo, min(lo + batch_size, n))
                for prep, members in groups.items():
                    x = apply(_collate(raw, prep.size).to(device, non_blocking=True), prep)
                    for j in members:
                        logits = _forward(models[j], x)
                        scores[j].append(torch.softmax(logits.float(), dim=1).cpu().numpy())
                if progress is not None:
                    done = min(lo + batch_size, n)
                    progress(done, n, done / max(time.perf_counter() - start, 1e-9))
    finally:
        for h in hooks:
            if h is not None:
                h.remove()
        if device.type == "cuda":
            for m in models:
                m.to("cpu")
            torch.cuda.empty_cache()
    return [
        ModelOutput(
            np.concatenate(scores[j]).astype(np.float32) if scores[j] else np.zeros((0, 0), np.float32),
            torch.cat(feats[j]).numpy() if keep_features and feats[j] else None,
        )
        for j in range(len(models))
    ]


def _forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    try:
        out = model(x)
    except RuntimeError as exc:
        raise VersusError(
            f"The model cannot take input of shape {tuple(x.shape)} ({first_line(exc, 200)}); "
            "check the size and channels."
        ) from None
    if isinstance(out, (tuple, list)):
        out = out[0]
    if hasattr(out, "logits"):
        out = out.logits
    if out.ndim != 2:
        raise VersusError(f"The model returned shape {tuple(out.shape)}, not (batch, classes).")
    return out
