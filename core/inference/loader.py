"""The loader: decodes each image once for every model, in worker threads that overlap with compute.

Pillow and torch both release the GIL while they decode and resize, so a thread pool keeps the
model busy without the start-up and memory cost of worker processes. Batches come out in order,
as float NxCxHxW tensors in [0, 1] (or a list of CxHxW tensors when the images differ in size and
the models do not share one input size)."""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from core.datasets import EvalData
from core.errors import VersusError
from core.preprocessing import batch_to_tensor, to_tensor

Batch = torch.Tensor | list[torch.Tensor]
DECODE_TIMEOUT_S = 120.0  # one chunk of images that takes longer than this is a hung worker
CHUNK = 16  # images per task handed to a worker


def default_workers() -> int:
    """Decoding threads: one per core this process may use but one (the models' own threads
    need it), at least 1, at most 8. On 2 cores, resnet18 ran 14.7 pairs/s with 1 worker
    against 9.4-12.6 with 2."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores - 1))


def resize_one(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """One float CxHxW image resized to size (bilinear, antialiased, as preprocessing.apply does)."""
    if tuple(t.shape[1:]) == tuple(size):
        return t
    return F.interpolate(t[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]


def prepare(img: np.ndarray, size: tuple[int, int] | None) -> torch.Tensor:
    """A decoded uint8 image as float CxHxW in [0, 1], resized to size when given (both engines)."""
    t = to_tensor(img)
    return resize_one(t, size) if size is not None else t


def decode_rows(data: EvalData, rows: range, size: tuple[int, int] | None) -> list[torch.Tensor]:
    """Images rows as float CxHxW tensors in [0, 1], each resized to size when given."""
    return [prepare(data.image(i), size) for i in rows]


def collate(tensors: list[torch.Tensor], size: tuple[int, int] | None) -> Batch:
    """One NxCxHxW batch when the images share a shape, else the list (resized per model group)."""
    if len({tuple(t.shape) for t in tensors}) == 1:
        return torch.stack(tensors)
    return tensors


def in_memory_batches(data: EvalData, batch_size: int) -> Iterator[tuple[int, int, Batch]]:
    """The fast path for sets held in memory: slices of the array, no per-image work."""
    assert data.array is not None
    n = len(data)
    for lo in range(0, n, batch_size):
        hi = min(lo + batch_size, n)
        yield lo, hi, batch_to_tensor(data.array[lo:hi])


def file_batches(data: EvalData, batch_size: int, workers: int, size: tuple[int, int] | None,
                 pin: bool = False, timeout: float = DECODE_TIMEOUT_S) -> Iterator[tuple[int, int, Batch]]:
    """Batches decoded by `workers` threads, prefetched about two batches ahead, in order.

    size: the input size every model shares (images are resized to it in the workers), or None.
    pin: pin the batch in page-locked memory (for non-blocking copies to a GPU)."""
    n = len(data)
    if workers <= 0:
        for lo in range(0, n, batch_size):
            hi = min(lo + batch_size, n)
            batch = collate(decode_rows(data, range(lo, hi), size), size)
            yield lo, hi, _pin(batch) if pin else batch
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="versus-decode")
    pending: deque[tuple[int, int, list[Future]]] = deque()
    starts = iter(range(0, n, batch_size))
    ahead = max(2, -(-2 * workers * CHUNK // batch_size))  # batches queued ahead of the model

    def submit_next() -> None:
        lo = next(starts, None)
        if lo is None:
            return
        hi = min(lo + batch_size, n)
        chunks = [pool.submit(decode_rows, data, range(c, min(c + CHUNK, hi)), size) for c in range(lo, hi, CHUNK)]
        pending.append((lo, hi, chunks))

    try:
        for _ in range(ahead):
            submit_next()
        while pending:
            lo, hi, chunks = pending.popleft()
            submit_next()
            tensors: list[torch.Tensor] = []
            for fut in chunks:
                try:
                    tensors.extend(fut.result(timeout=timeout))
                except FutureTimeout:
                    raise VersusError(
                        f"Decoding images {lo}-{hi - 1} of {data.name} took over {timeout:g} s; "
                        "a worker appears to hang."
                    ) from None
            batch = collate(tensors, size)
            yield lo, hi, _pin(batch) if pin else batch
    finally:
        for _, _, chunks in pending:
            for fut in chunks:
                fut.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def _pin(batch: Batch) -> Batch:
    if isinstance(batch, torch.Tensor):
        return batch.pin_memory()
    return [t.pin_memory() for t in batch]


def batches(data: EvalData, batch_size: int, workers: int, size: tuple[int, int] | None,
            pin: bool = False) -> Iterator[tuple[int, int, Batch]]:
    """(lo, hi, batch) over data: in-memory sets are sliced, files are decoded by the workers."""
    if data.array is not None:
        for lo, hi, batch in in_memory_batches(data, batch_size):
            yield lo, hi, batch.pin_memory() if pin else batch
        return
    yield from file_batches(data, batch_size, workers, size, pin)
