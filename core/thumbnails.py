"""Small PNG thumbnails of evaluation images, made only for what is on screen."""
from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict

import numpy as np
from PIL import Image

from core.predictions import Samples

THUMB_PX = 64


def thumbnail_png(img: np.ndarray, px: int = THUMB_PX) -> bytes:
    """PNG bytes of img scaled so its longer side is px (nearest-neighbour for tiny images)."""
    im = Image.fromarray(np.asarray(img, dtype=np.uint8))
    scale = px / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    resample = Image.NEAREST if max(im.size) <= 32 else Image.BILINEAR
    buf = io.BytesIO()
    im.resize(size, resample).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def data_url(png: bytes) -> str:
    """A data: URL for PNG bytes (for st.dataframe ImageColumn, HTML and Vega-Lite)."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


_MAX_CACHED = 4096
_cache: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


def _cached(samples: Samples, i: int, px: int) -> str:
    key = (getattr(samples, "fingerprint", None) or id(samples), i, px)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    url = data_url(thumbnail_png(samples.image(i), px))
    with _lock:
        _cache[key] = url
        while len(_cache) > _MAX_CACHED:
            _cache.popitem(last=False)
    return url


def thumbnail_urls(samples: Samples | None, rows: np.ndarray, px: int = THUMB_PX) -> list[str | None]:
    """Data URLs of the thumbnails for the given rows (memoized per samples object and row)."""
    if samples is None:
        return [None] * len(rows)
    out = []
    for i in np.asarray(rows, dtype=np.int64).tolist():
        try:
            out.append(_cached(samples, i, px))
        except Exception:  # an unreadable image shows as a blank cell, not a crash
            out.append(None)
    return out
