"""How inference runs (workers, precision, engine) and the flags that set it, checked without
importing torch, so a mistyped flag is answered at once and before any cache is looked at."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from core.errors import VersusError

DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's warning limit; --max-pixels moves it, up to Pillow's hard limit
ENGINES = ("local", "ray")
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class InferenceOptions:
    """workers: decoding threads (None: one per core but one); precision: fp32 | bf16 | fp16;
    engine: local | ray; ray_address: a Ray cluster (None: a local instance);
    max_pixels: the largest image of any evaluation set; skip_bad_images: skip
    oversized or damaged images in a folder instead of stopping."""

    workers: int | None = None
    precision: str = "fp32"
    engine: str = "local"
    ray_address: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    skip_bad_images: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise VersusError(f"Precision {self.precision!r} is not one of {', '.join(PRECISIONS)}.")
        if self.workers is not None and not 0 <= self.workers <= 256:
            raise VersusError(f"--workers must be between 0 and 256, not {self.workers}.")
        if self.engine not in ENGINES:
            raise VersusError(f"Engine {self.engine!r} is not one of {', '.join(ENGINES)}.")
        if self.max_pixels < 1:
            raise VersusError(f"--max-pixels must be a positive number of pixels, not {self.max_pixels}.")
        if self.ray_address is not None and self.engine != "ray":
            raise VersusError("--ray-address needs --engine ray.")
        if self.ray_address not in (None, "auto"):
            host, port = ray_host_port(self.ray_address)
            if not host or not port.isdigit():
                raise VersusError(f"The Ray address {self.ray_address!r} is not HOST:PORT (for example "
                                  "10.0.0.5:6379) or auto.")

    def cache_identity(self) -> dict:
        """What changes results and so belongs in cache keys (workers and engine do not)."""
        return {"precision": self.precision} if self.precision != "fp32" else {}


def ray_host_port(address: str) -> tuple[str, str]:
    """HOST and PORT of a Ray address (HOST:PORT or ray://HOST:PORT), as text."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    return host, port


def add_inference_args(parser: argparse.ArgumentParser) -> None:
    """The inference flags of `python -m core compare` (and series)."""
    g = parser.add_argument_group("inference")
    g.add_argument("--workers", type=int, default=None,
                   help="threads decoding images ahead of the models (default: one per core but one; 0: none)")
    g.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="compute precision (default fp32; reduced precision is recorded and said)")
    g.add_argument("--engine", default="local", choices=ENGINES,
                   help="local (this process) or ray (Ray Data actors; see --ray-address)")
    g.add_argument("--ray-address", default=None,
                   help="a Ray cluster, e.g. 10.0.0.5:6379 (default: a local instance)")
    g.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help="largest image in pixels, for every kind of --data (an 8x8 digit is 64 pixels, a "
                        "CIFAR or SVHN image 1,024); a set with larger images is refused, or with "
                        f"--skip-bad-images an image folder skips them (default {DEFAULT_MAX_PIXELS:,})")
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
