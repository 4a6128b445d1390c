"""Bounds on what a model file may declare, checked before anything big is built or run.

A tiny file can declare huge tensors (stride-0 / expanded storage) or a classifier with
millions of classes; building or running such a model exhausts memory. The bounds are
read from the environment so a user with a genuinely large model can raise them.
"""
from __future__ import annotations

import math
import os
import re
import zipfile
from pathlib import Path
from typing import Iterable

from core.errors import VersusError

MAX_CLASSES_ENV = "VERSUS_MAX_CLASSES"
MAX_PARAMS_ENV = "VERSUS_MAX_PARAMS"
MAX_SIZE_ENV = "VERSUS_MAX_SIZE"  # core.prep_args
FEATURE_BYTES_ENV = "VERSUS_MAX_FEATURE_BYTES"  # core.inference.features
MAX_DATA_BYTES_ENV = "VERSUS_MAX_DATA_BYTES"  # core.datasets
BOUND_ENVS = (MAX_CLASSES_ENV, MAX_PARAMS_ENV, MAX_SIZE_ENV, FEATURE_BYTES_ENV, MAX_DATA_BYTES_ENV)
DEFAULT_MAX_CLASSES = 100_000
DEFAULT_MAX_PARAMS = 2_000_000_000  # elements; 8 GB in float32


def bound(env: str, default: int) -> int:
    """A positive whole number from the environment variable env ("1e9" is fine), else default;
    anything else (a fraction, Inf, NaN, text, zero or less) is refused, never ignored."""
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        number = float(raw.replace("_", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer():
        raise VersusError(f"{env}={raw!r} is not a whole number.")
    if number < 1:
        raise VersusError(f"{env}={raw!r} must be at least 1.")
    return int(number)


MAX_NAME = 255  # bytes in one path component on common file systems


def check_path_text(spec: str) -> None:
    """Refuse a path with a component longer than the file system allows, in one sentence."""
    for part in Path(spec).parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise VersusError(f"A part of the path {spec[:60]}... is longer than {MAX_NAME} bytes, "
                              "which no file system allows.")


def check_environment() -> None:
    """Every bound set in the environment is a positive whole number (checked up front, so a
    junk value is refused even when the run would not have read it)."""
    for env in BOUND_ENVS:
        bound(env, 1)


def max_classes() -> int:
    """The largest class count a model may declare (VERSUS_MAX_CLASSES)."""
    return bound(MAX_CLASSES_ENV, DEFAULT_MAX_CLASSES)


def max_params() -> int:
    """The largest total parameter element count a model may declare (VERSUS_MAX_PARAMS)."""
    return bound(MAX_PARAMS_ENV, DEFAULT_MAX_PARAMS)


def check_classes(count: int, where: str, verb: str = "declares") -> None:
    """Refuse a class count above the bound, saying how to raise it ("{where} {verb} N classes")."""
    limit = max_classes()
    if count > limit:
        raise VersusError(
            f"{where} {verb} {count:,} classes, more than the limit of {limit:,}; if that is "
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


BYTES_PER_VALUE = 4  # float32: the bound on stored bytes is VERSUS_MAX_PARAMS values of 4 bytes
BOMB_RATIO = 50  # torch.save never compresses tensor data; real weights deflate far less than this
BOMB_MIN_BYTES = 1 << 20
_STORAGE_RECORD = re.compile(r"^[^/]+/data/[^/]+$")  # archive/data/<key>: one tensor storage each


def check_archive(path: str | os.PathLike, where: str) -> None:
    """Refuse a torch zip archive (torch.save, TorchScript, pytorch_model.bin) whose tensor
    storage records would exceed the bound once read, or that holds a storage record deflated
    like a zip bomb, before torch reads any of it. A file that is not a zip (the legacy format)
    is bounded by its size on disk and passes; a damaged one is left to the loader to name."""
    try:
        with zipfile.ZipFile(path) as zf:
            records = [i for i in zf.infolist() if _STORAGE_RECORD.match(i.filename)]
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    limit = max_params()
    total = sum(i.file_size for i in records)
    if total > limit * BYTES_PER_VALUE:
        raise VersusError(
            f"{where} holds {_size(total)} of tensor data once read, more than the limit of "
            f"{limit:,} parameter values at {BYTES_PER_VALUE} bytes each; if that is really the model, "
            f"raise the limit with the environment variable {MAX_PARAMS_ENV}."
        )
    for info in records:
        if (info.compress_type != zipfile.ZIP_STORED and info.file_size >= BOMB_MIN_BYTES
                and info.file_size > BOMB_RATIO * max(info.compress_size, 1)):
            raise VersusError(
                f"{where} holds a tensor record compressed {info.file_size // max(info.compress_size, 1):,} "
                f"times ({_size(info.compress_size)} on disk, {_size(info.file_size)} once read), the mark "
                "of a zip bomb (torch.save never compresses tensors); it was not loaded."
            )


def _size(n: int) -> str:
    """A byte count for a message: 512 bytes, 3.2 MB, 20.0 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
