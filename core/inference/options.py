"""How inference runs (workers, precision, engine) and the command-line flags that set it."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
from torch import nn

from core.datasets import DEFAULT_MAX_PIXELS, EvalData
from core.errors import VersusError
from core.preprocessing import Preprocessing

ENGINES = ("local", "ray")
CPU_BATCH, GPU_BATCH = 64, 256  # measured: resnet18 on 2 cores runs 1.6x faster at 64 than at 256


def default_batch_size(device: torch.device) -> int:
    """The batch size when none is given: small on CPU (cache-friendly), large on a GPU."""
    return GPU_BATCH if device.type == "cuda" else CPU_BATCH


@dataclass(frozen=True)
class InferenceOptions:
    """workers: decoding threads (None: one per core); precision: fp32 | bf16 | fp16;
    engine: local | ray; ray_address: a Ray cluster (None: a local instance);
    max_pixels / skip_bad_images: what to do with oversized or damaged images in a folder."""

    workers: int | None = None
    precision: str = "fp32"
    engine: str = "local"
    ray_address: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    skip_bad_images: bool = False

    def __post_init__(self) -> None:
        from core.inference.runner import check_precision

        check_precision(self.precision)
        if self.workers is not None and not 0 <= self.workers <= 256:
            raise VersusError(f"--workers must be between 0 and 256, not {self.workers}.")
        if self.engine not in ENGINES:
            raise VersusError(f"Engine {self.engine!r} is not one of {', '.join(ENGINES)}.")
        if self.max_pixels < 1:
            raise VersusError(f"--max-pixels must be a positive number of pixels, not {self.max_pixels}.")
        if self.ray_address is not None and self.engine != "ray":
            raise VersusError("--ray-address needs --engine ray.")

    def cache_identity(self) -> dict:
        """What changes results and so belongs in cache keys (workers and engine do not)."""
        return {"precision": self.precision} if self.precision != "fp32" else {}


def add_inference_args(parser: argparse.ArgumentParser) -> None:
    """The inference flags of `python -m core compare` (and series)."""
    g = parser.add_argument_group("inference")
    g.add_argument("--workers", type=int, default=None,
                   help="threads decoding images ahead of the models (default: one per core but one; 0: none)")
    g.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"),
                   help="compute precision (default fp32; reduced precision is recorded and said)")
    g.add_argument("--engine", default="local", choices=ENGINES,
                   help="local (this process) or ray (Ray Data actors; see --ray-address)")
    g.add_argument("--ray-address", default=None,
                   help="a Ray cluster, e.g. 10.0.0.5:6379 (default: a local instance)")
    g.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"largest image in pixels; larger ones are refused (default {DEFAULT_MAX_PIXELS:,})")
    g.add_argument("--skip-bad-images", action="store_true",
                   help="skip unreadable, truncated or oversized images (listed as a warning) instead of stopping")


def options_from_args(args: argparse.Namespace) -> InferenceOptions:
    """InferenceOptions from parsed flags (checked before any cache is looked at)."""
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size < 1:
        raise VersusError(f"--batch-size must be at least 1, not {args.batch_size}.")
    return InferenceOptions(workers=args.workers, precision=args.precision, engine=args.engine,
                            ray_address=args.ray_address, max_pixels=args.max_pixels,
                            skip_bad_images=args.skip_bad_images)


def run_engine(options: InferenceOptions, models: list[nn.Module], preps: list[Preprocessing], data: EvalData,
               device: torch.device, batch_size: int | None = None, keep_features: bool = False, progress=None,
               names: list[str] | None = None) -> list:
    """run_models on the engine the options name; the outputs are the same either way.
    batch_size None: default_batch_size(device)."""
    batch_size = batch_size or default_batch_size(device)
    if options.engine == "ray":
        from core.inference.ray_engine import run_models_ray

        return run_models_ray(models, preps, data, device, batch_size, keep_features, progress, names,
                              options.precision, options.ray_address)
    from core.inference.runner import run_models

    return run_models(models, preps, data, device, batch_size, keep_features, progress, names,
                      options.workers, options.precision)
