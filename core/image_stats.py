"""Image properties of an evaluation set, computed once per content: brightness, contrast,
height, width and aspect ratio. Vectorized over in-memory sets, cached on disk by fingerprint."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.cache import ArrayCache, make_key

COLUMNS = ("brightness", "contrast", "height", "width", "aspect_ratio")
_BLOCK = 4096
_VERSION = 1


def _gray(block: np.ndarray) -> np.ndarray:
    """N x H x W float32 luminance (ITU-R 601 weights) of N x H x W or N x H x W x C uint8 images."""
    x = block.astype(np.float32)
    if x.ndim == 4:
        x = x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32) if x.shape[-1] >= 3 else x[..., 0]
    return x


def stats_of_array(images: np.ndarray) -> dict[str, np.ndarray]:
    """The properties of a stack of same-sized images, in blocks (bounded memory)."""
    n = len(images)
    bright, contrast = np.empty(n, np.float32), np.empty(n, np.float32)
    for lo in range(0, n, _BLOCK):
        g = _gray(images[lo:lo + _BLOCK]).reshape(min(_BLOCK, n - lo), -1) / 255.0
        bright[lo:lo + len(g)] = g.mean(axis=1)
        contrast[lo:lo + len(g)] = g.std(axis=1)
    h, w = images.shape[1], images.shape[2]
    return {"brightness": bright, "contrast": contrast, "height": np.full(n, h, np.float32),
            "width": np.full(n, w, np.float32), "aspect_ratio": np.full(n, w / h, np.float32)}


def stats_one_by_one(samples: Any, n: int) -> dict[str, np.ndarray]:
    """The properties of n lazily read images; an unreadable image gets NaN everywhere."""
    out = {c: np.full(n, np.nan, np.float32) for c in COLUMNS}
    for i in range(n):
        try:
            img = np.asarray(samples.image(i))
        except Exception:  # noqa: BLE001 - one bad file must not stop the slice finder
            continue
        s = stats_of_array(img[None])
        for c in COLUMNS:
            out[c][i] = s[c][0]
    return out


def image_stats(samples: Any, n: int, cache: ArrayCache | None = None) -> pd.DataFrame:
    """One row per example with COLUMNS; computed once per samples' content fingerprint."""
    fp = getattr(samples, "fingerprint", None)
    key = make_key({"image_stats": _VERSION, "samples": fp, "n": n}) if fp else None
    cache = cache if cache is not None else ArrayCache()
    found = cache.get(key) if key else None
    if found is None or any(len(found.get(c, ())) != n for c in COLUMNS):
        array = getattr(samples, "array", None)
        found = stats_of_array(array) if array is not None and len(array) == n else stats_one_by_one(samples, n)
        if key:
            cache.put(key, found)
    return pd.DataFrame({c: found[c] for c in COLUMNS})
