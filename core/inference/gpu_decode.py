"""JPEG decoding on the GPU (nvJPEG through torchvision) for CUDA runs on JPEG folders: worker
threads read the file bytes, the GPU decodes a whole batch at once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import torch

from core.datasets import EvalData
from core.errors import VersusError, first_line
from core.inference.loader import Batch, collate, resize_one

JPEG_SUFFIXES = (".jpg", ".jpeg")


def is_jpeg_folder(data: EvalData) -> bool:
    """True when every image of data is a JPEG file on disk."""
    files = getattr(data, "files", None)
    return bool(files) and all(Path(f).suffix.lower() in JPEG_SUFFIXES for f in files)


def _read(path: Path) -> torch.Tensor:
    return torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.uint8)


def gpu_jpeg_batches(data: EvalData, batch_size: int, workers: int, size: tuple[int, int] | None,
                     device: torch.device) -> Iterator[tuple[int, int, Batch]]:
    """(lo, hi, batch) with the images decoded on device, as float in [0, 1], resized to size."""
    from torchvision.io import ImageReadMode, decode_jpeg

    mode = ImageReadMode.GRAY if data.native_channels == 1 else ImageReadMode.RGB
    files = data.files
    n = len(data)
    starts = list(range(0, n, batch_size))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        def read_batch(k: int) -> list:
            lo = starts[k]
            return [pool.submit(_read, f) for f in files[lo:min(lo + batch_size, n)]]

        reads = {0: read_batch(0)}
        for k, lo in enumerate(starts):
            if k + 1 < len(starts):
                reads[k + 1] = read_batch(k + 1)  # the next batch is read while this one runs
            hi = min(lo + batch_size, n)
            encoded = [f.result() for f in reads.pop(k)]
            try:
                decoded = decode_jpeg(encoded, mode=mode, device=device)
            except RuntimeError as exc:
                raise VersusError(
                    f"The GPU could not decode a JPEG among {files[lo]} .. {files[hi - 1]} "
                    f"({first_line(exc)}); run with --device cpu."
                ) from None
            tensors = [t.float().div_(255.0) for t in decoded]
            if size is not None:
                tensors = [resize_one(t, size) for t in tensors]
            yield lo, hi, collate(tensors, size)
