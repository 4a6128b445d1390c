"""Bounds on what a model file may declare, checked before anything big is built or run.

A tiny file can declare huge tensors (stride-0 / expanded storage) or a classifier with
millions of classes; building or running such a model exhausts memory. The bounds are
read from the environment so a user with a genuinely large model can raise them.
"""
from __future__ import annotations

import os
from typing import Iterable

from core.errors import VersusError

MAX_CLASSES_ENV = "VERSUS_MAX_CLASSES"
MAX_PARAMS_ENV = "VERSUS_MAX_PARAMS"
DEFAULT_MAX_CLASSES = 100_000
DEFAULT_MAX_PARAMS = 2_000_000_000  # elements; 8 GB in float32


def _bound(env: str, default: int) -> int:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise VersusError(f"{env}={raw!r} is not a whole number.") from None
    if value < 1:
        raise VersusError(f"{env}={raw!r} must be at least 1.")
    return value


def max_classes() -> int:
    """The largest class count a model may declare (VERSUS_MAX_CLASSES)."""
    return _bound(MAX_CLASSES_ENV, DEFAULT_MAX_CLASSES)


def max_params() -> int:
    """The largest total parameter element count a model may declare (VERSUS_MAX_PARAMS)."""
    return _bound(MAX_PARAMS_ENV, DEFAULT_MAX_PARAMS)


def check_classes(count: int, where: str) -> None:
    """Refuse a class count above the bound, saying how to raise it."""
    limit = max_classes()
    if count > limit:
        raise VersusError(
            f"{where} declares {count:,} classes, more than the limit of {limit:,}; if that is "
            f"really the model, raise the limit with the environment variable {MAX_CLASSES_ENV}."
        )


def check_shapes(shapes: Iterable[tuple[int, ...]], where: str) -> None:
    """Refuse tensors whose total element count is above the bound (shapes only, no data)."""
    limit = max_params()
    total = 0
    for shape in shapes:
        n = 1
        for d in shape:
            n *= int(d)
        total += n
        if total > limit:
            raise VersusError(
                f"{where} declares more than {limit:,} parameter values in total, more than the "
                f"limit; if that is really the model, raise the limit with the environment "
                f"variable {MAX_PARAMS_ENV}."
            )
