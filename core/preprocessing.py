"""Preprocessing: pixels to [0, 1], resize, channel conversion, normalization."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import VersusError

_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class Preprocessing:
    """How raw uint8 images become model input."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.channels not in (None, 1, 3):
            raise VersusError(f"Channels must be 1 or 3, not {self.channels}.")
        if (self.mean is None) != (self.std is None):
            raise VersusError("Give both mean and std for normalization, or neither.")
        if self.std is not None and any(s <= 0 for s in self.std):
            raise VersusError("Every std value must be positive.")
        for vals in (self.mean, self.std):
            if vals is not None and self.channels is not None and len(vals) not in (1, self.channels):
                raise VersusError(f"mean/std need 1 or {self.channels} values, not {len(vals)}.")

    def as_dict(self) -> dict:
        """JSON-ready form (recorded in summary.json)."""
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def key(self) -> str:
        """Stable text form used in cache keys."""
        return repr(sorted(self.as_dict().items()))


def parse_size(text: str) -> tuple[int, int]:
    """"28" or "32x48" (HxW) into (H, W)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
        if len(parts) == 1:
            parts = parts * 2
        assert len(parts) == 2 and min(parts) > 0
        return parts[0], parts[1]
    except (ValueError, AssertionError):
        raise VersusError(f"Size {text!r} is not H or HxW with positive integers.") from None


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    """"0.5,0.5,0.5" into floats."""
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise VersusError(f"{what} {text!r} is not a comma-separated list of numbers.") from None


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 HxW or HxWxC into float CxHxW in [0, 1]."""
    t = torch.from_numpy(np.array(img, dtype=np.uint8, copy=True))
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
    return t.float().div_(255.0)


def batch_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NxHxW or NxHxWxC into float NxCxHxW in [0, 1]."""
    t = torch.from_numpy(np.array(images, dtype=np.uint8, copy=True))
    t = t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    return t.float().div_(255.0)


def apply(batch: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Preprocess a float NxCxHxW batch in [0, 1]."""
    x = batch
    if prep.channels == 1 and x.shape[1] == 3:
        x = (x * _LUMA.to(x.device)).sum(dim=1, keepdim=True)
    elif prep.channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if prep.size is not None and tuple(x.shape[2:]) != tuple(prep.size):
        x = F.interpolate(x, size=prep.size, mode="bilinear", align_corners=False, antialias=True)
    if prep.mean is not None:
        c = x.shape[1]
        mean = torch.tensor(prep.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1).expand(1, c, 1, 1)
        std = torch.tensor(prep.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1).expand(1, c, 1, 1)
        x = (x - mean) / std
    return x.contiguous()
