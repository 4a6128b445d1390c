"""Preprocessing flags (--size, --mean, --std) parsed and checked without importing torch, so a
mistyped flag is answered at once."""
from __future__ import annotations

import math
import sys

from core.errors import VersusError
from core.limits import MAX_SIZE_ENV, bound

DEFAULT_MAX_SIZE = 4096


def max_size() -> int:
    """The largest resize side allowed (VERSUS_MAX_SIZE), so a typo cannot exhaust memory."""
    return bound(MAX_SIZE_ENV, DEFAULT_MAX_SIZE)


def parse_size(text: str) -> tuple[int, int]:
    """"28" or "32x48" (HxW) into (H, W), each side at most max_size()."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) <= 0:
        raise VersusError(f"Size {text!r} is not H or HxW with positive integers.")
    limit = max_size()
    if max(parts) > limit:
        raise VersusError(f"Size {text!r} is larger than {limit} pixels a side; set the environment "
                          f"variable {MAX_SIZE_ENV} to allow more.")
    return parts[0], parts[1]


def ordinary(v: float) -> bool:
    """A finite number that is not subnormal (0 allowed): what a mean or std may hold."""
    return math.isfinite(v) and (v == 0 or abs(v) >= sys.float_info.min)


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    """"0.5,0.5,0.5" into finite, normal floats (NaN, Inf and subnormal values refused)."""
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise VersusError(f"{what} {text!r} is not a comma-separated list of numbers.") from None
    if not values:
        raise VersusError(f"{what} {text!r} holds no numbers.")
    for v in values:
        if not ordinary(v):
            raise VersusError(f"{what} {text!r} holds {v!r}; every value must be a finite, ordinary number.")
    return values
