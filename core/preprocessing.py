"""Preprocessing: pixels to [0, 1], resize, channel conversion, normalization."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import VersusError
from core.limits import MAX_SIZE_ENV
from core.prep_args import max_size, ordinary

_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class Preprocessing:
    """How raw uint8 images become model input."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.size is not None:
            limit = max_size()
            if min(self.size) < 1 or max(self.size) > limit:
                raise VersusError(f"Size {self.size[0]}x{self.size[1]} is outside 1 to {limit} pixels a side "
                                  f"(the environment variable {MAX_SIZE_ENV} raises the limit).")
        for what, vals in (("mean", self.mean), ("std", self.std)):
            if vals is not None and not all(ordinary(v) for v in vals):
                raise VersusError(f"The {what} {list(vals)} holds a value that is not a finite, ordinary number.")
        if self.channels not in (None, 1, 3):
            raise VersusError(f"Channels must be 1 or 3, not {self.channels}.")
        if (self.mean is None) != (self.std is None):
            raise VersusError("Give both mean and std for normalization, or neither.")
        if self.std is not None and any(s <= 0 for s in self.std):
            raise VersusError("Every std value must be positive.")
        for vals in (self.mean, self.std):
            if vals is not None and self.channels is not None and len(vals) not in (1, self.channels):
                need = "1 value" if self.channels == 1 else f"1 or {self.channels} values"
                raise VersusError(f"mean/std need {need} for {self.channels}-channel input, not {len(vals)}.")

    def as_dict(self) -> dict:
        """JSON-ready form (recorded in summary.json)."""
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def key(self) -> str:
        """Stable text form used in cache keys."""
        return repr(sorted(self.as_dict().items()))


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


@dataclass(frozen=True)
class Recorded:
    """Preprocessing an artifact (or its architecture) states; None where it says nothing.
    normalized False means the artifact says "no normalization"; origin names where it was
    read, e.g. "preprocessor_config.json"."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    normalized: bool | None = None
    origin: str = ""


def _floats(value: Any) -> tuple[float, ...] | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return tuple(float(v) for v in value)
    return None


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, value
    if isinstance(value, dict):  # HF: {"height": h, "width": w} or {"shortest_edge": s}
        if "height" in value and "width" in value:
            return _size([value["height"], value["width"]])
        return _size(value.get("shortest_edge"))
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and v > 0 for v in value):
        if len(value) == 3:  # timm input_size: (C, H, W)
            return int(value[1]), int(value[2])
        if len(value) == 2:
            return int(value[0]), int(value[1])
        if len(value) == 1:
            return int(value[0]), int(value[0])
    return None


def recorded_from_args(args: dict[str, Any], origin: str) -> Recorded:
    """Preprocessing named in recorded training arguments (timm's args, Lightning's
    hyper_parameters): input_size/img_size/image_size/size, mean, std, in_chans/channels."""
    size = None
    for key in ("input_size", "img_size", "image_size", "size", "resolution"):
        size = size or _size(args.get(key))
    channels = None
    for key in ("in_chans", "in_channels", "channels"):
        if args.get(key) in (1, 3):
            channels = int(args[key])
    if channels is None and isinstance(args.get("input_size"), (list, tuple)) and len(args["input_size"]) == 3:
        channels = int(args["input_size"][0]) if args["input_size"][0] in (1, 3) else None
    mean, std = _floats(args.get("mean")), _floats(args.get("std"))
    if mean is None or std is None:
        mean = std = None
    normalized = False if mean is None and args.get("normalize") is False else None  # "no normalization"
    if size is None and channels is None and mean is None and normalized is None:
        return Recorded()
    return Recorded(size, channels, mean, std, normalized, origin)
