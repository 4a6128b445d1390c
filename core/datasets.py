"""Evaluation sets: the embedded digits demo, ImageFolder, and torchvision datasets read
from local files only (never downloaded; their readers are in core/dataset_files.py)."""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.cache import file_sha256
from core.errors import VersusError, first_line
from core.limits import MAX_DATA_BYTES_ENV, bound
from core.predictions import compact_ids
from core.run_options import DEFAULT_MAX_PIXELS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
DATA_KINDS = ("digits", "imagefolder", "mnist", "fashionmnist", "kmnist", "cifar10", "cifar100", "svhn")


@dataclass
class EvalData:
    """An evaluation set: ids, truth, class names and lazy uint8 images.

    `native_size` is (H, W) when every image has the same size, `default_size` the size a
    model should see by default, `native_channels` 1 or 3; `array` holds every image when the
    set lives in memory (then batches are sliced, not decoded one by one); `files` the image
    file behind each row when the set is a folder on disk; `warnings` sentences a user must see
    (bad images skipped).
    """

    name: str
    ids: np.ndarray
    truth: np.ndarray
    class_names: list[str]
    loader: Callable[[int], np.ndarray]
    fingerprint: str
    native_size: tuple[int, int] | None
    native_channels: int
    default_size: tuple[int, int] | None = None
    skipped: list[str] = field(default_factory=list)
    array: np.ndarray | None = None
    files: tuple[Path, ...] | None = None
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = compact_ids(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def image(self, i: int) -> np.ndarray:
        """Image i as uint8 HxW or HxWx3."""
        return self.loader(int(i))


def array_data(name: str, images: np.ndarray, truth: np.ndarray, ids: list[str],
                classes: list[str], fingerprint: str, default_size=None) -> EvalData:
    images = np.ascontiguousarray(images)
    channels = 3 if images.ndim == 4 else 1
    return EvalData(name, ids, np.asarray(truth, np.int64), classes,
                    lambda i: images[i], fingerprint, tuple(images.shape[1:3]), channels,
                    default_size or tuple(images.shape[1:3]), array=images)


# ---- bounds on a set held in memory ---------------------------------------------------------

DEFAULT_MAX_DATA_BYTES = 2_000_000_000  # MNIST's test split is 8 MB decoded, SVHN's 80 MB


def check_image_pixels(where: str, h: int, w: int, max_pixels: int) -> None:
    """Refuse images of h x w pixels when that is over max_pixels (--max-pixels)."""
    if h * w > max_pixels:
        raise VersusError(f"{where} holds images of {h}x{w} pixels ({h * w:,} each), over --max-pixels "
                          f"{max_pixels:,}; raise --max-pixels if the images really are that large.")


def max_data_bytes() -> int:
    """The most bytes an in-memory evaluation set may decode to (VERSUS_MAX_DATA_BYTES)."""
    return bound(MAX_DATA_BYTES_ENV, DEFAULT_MAX_DATA_BYTES)


def check_decoded_bytes(where: str, nbytes: int) -> None:
    """Refuse a set that would take more than VERSUS_MAX_DATA_BYTES bytes once decoded (the
    in-memory sets are held whole, so a small compressed file must not declare gigabytes)."""
    limit = max_data_bytes()
    if nbytes > limit:
        raise VersusError(f"{where} would take {nbytes:,} bytes once decoded, over the limit of {limit:,}; "
                          f"if the set really is that large, raise it with the environment variable "
                          f"{MAX_DATA_BYTES_ENV}.")


# ---- digits ---------------------------------------------------------------------------------

DIGITS_TEST_SIZE = 0.3
DIGITS_SEED = 0


def digits_split() -> dict[str, np.ndarray]:
    """scikit-learn's 8x8 digits as uint8 images, split 70/30 stratified with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)
    idx = np.arange(len(images))
    tr, te = train_test_split(idx, test_size=DIGITS_TEST_SIZE, random_state=DIGITS_SEED, stratify=d.target)
    return {"train_idx": np.sort(tr), "test_idx": np.sort(te), "images": images, "target": d.target}


def load_digits_test() -> EvalData:
    """The held-out 30% of scikit-learn's digits (540 images), shown to models at 28x28."""
    s = digits_split()
    te = s["test_idx"]
    return array_data("digits", s["images"][te], s["target"][te], [f"digits-{i:04d}" for i in te],
                       [str(k) for k in range(10)], "digits:v1:test", default_size=(28, 28))


# ---- ImageFolder ----------------------------------------------------------------------------

GRAY_MODES = ("1", "L", "I", "I;16", "F")


BOMB = (f"over the limit of Pillow's decompression-bomb guard ({2 * Image.MAX_IMAGE_PIXELS:,} pixels), "
        "which --max-pixels cannot raise")


def read_image(source: Path | io.BytesIO, max_pixels: int | None = None) -> np.ndarray:
    """An image file's pixels as uint8 HxW (gray) or HxWx3 (RGB); more than max_pixels pixels
    (a decompression bomb) is a ValueError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(source) as im:
            _check_pixels(im, max_pixels)
            return np.asarray(im.convert("L") if im.mode in GRAY_MODES else im.convert("RGB"), dtype=np.uint8)


def _check_pixels(im: Image.Image, max_pixels: int | None) -> None:
    if max_pixels is not None and im.width * im.height > max_pixels:
        raise ValueError(f"{im.width}x{im.height} pixels is over the limit of {max_pixels:,} (--max-pixels)")


def _probe(path: Path, max_pixels: int, full: bool) -> tuple[tuple[int, int], str]:
    """(H, W) and "L"/"RGB" of an image file from its header (full: decode it all, which finds
    truncated files); any problem is a ValueError or OSError with the reason."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                _check_pixels(im, max_pixels)
                if full:
                    im.load()
                return (im.height, im.width), ("L" if im.mode in GRAY_MODES else "RGB")
        except Image.DecompressionBombError:
            raise ValueError(BOMB) from None
        except UnidentifiedImageError:
            raise ValueError("not a readable image") from None
        except SyntaxError as exc:  # Pillow's parsers raise it for damaged headers
            raise ValueError(first_line(exc)) from None


def bad_image_error(rel: str, reason: str) -> VersusError:
    """The one sentence for an image file that cannot be used."""
    return VersusError(f"The image {rel} cannot be used ({reason}); remove it or pass --skip-bad-images.")


def load_imagefolder(root: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS,
                     skip_bad_images: bool = False) -> EvalData:
    """root/<class>/<image>: classes are the sorted subfolder names. Files without an image
    suffix are skipped and listed in `skipped`. An image that cannot be read, is truncated or
    has more than max_pixels pixels is one error naming it, or, with skip_bad_images, skipped
    and said in `warnings` (then every image is decoded once here, to find truncated files).
    load_data checks max_pixels is positive."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise VersusError(f"The image folder {root} does not exist.")
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise VersusError(f"The image folder {root} has no class subfolders (expected {root}/<class>/<image>).")
    listed, skipped = [], []
    inside = base.resolve()
    for k, cls in enumerate(classes):
        for f in sorted((base / cls).rglob("*"), key=lambda p: str(p)):
            if not f.is_file() or f.name.startswith("."):
                continue
            if not f.resolve().is_relative_to(inside):
                raise VersusError(f"{f.relative_to(base).as_posix()} in the image folder {root} links to a file "
                                  "outside it; refused (copy the file into the folder instead).")
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append(f.relative_to(base).as_posix())
                continue
            listed.append((f, k))

    def probe(item: tuple[Path, int]) -> tuple[tuple[tuple[int, int], str] | str, str]:
        """The image's size and mode (or why it cannot be read) and its content hash, in the
        pool: the folder's fingerprint is not left to one thread reading every file again."""
        try:
            return _probe(item[0], max_pixels, skip_bad_images), file_sha256(item[0])
        except (ValueError, OSError, EOFError) as exc:
            return first_line(exc, 120), ""

    with ThreadPoolExecutor(max_workers=4) as pool:
        probed = list(pool.map(probe, listed))
    files, truth, bad = [], [], []
    h = hashlib.sha256()
    sizes, modes = set(), set()
    for (f, k), (result, digest) in zip(listed, probed):
        rel = f.relative_to(base).as_posix()
        if isinstance(result, str):
            if not skip_bad_images:
                raise bad_image_error(rel, result)
            bad.append(f"{rel} ({result})")
            continue
        sizes.add(result[0])
        modes.add(result[1])
        files.append(f)
        truth.append(k)
        h.update(rel.encode() + b"\0" + digest.encode())
    if not files:
        raise VersusError(f"The image folder {root} holds no readable images under its class folders.")
    notes = []
    if bad:
        shown = "; ".join(bad[:10]) + ("; ..." if len(bad) > 10 else "")
        notes.append(f"Skipped {len(bad)} bad image{'s' if len(bad) > 1 else ''} in {root} "
                     f"(--skip-bad-images): {shown}.")
    size = next(iter(sizes)) if len(sizes) == 1 else None
    channels = 1 if modes == {"L"} else 3
    ids = [f.relative_to(base).as_posix() for f in files]

    def load(i: int) -> np.ndarray:
        try:
            return coerce_channels(read_image(files[i], max_pixels), channels)
        except Image.DecompressionBombError:
            raise bad_image_error(ids[i], BOMB) from None
        except (ValueError, OSError, EOFError, SyntaxError) as exc:
            raise bad_image_error(ids[i], first_line(exc, 120)) from None

    return EvalData(f"imagefolder:{base}", ids, np.array(truth, np.int64),
                    classes, load, f"imagefolder:{h.hexdigest()}", size, channels, size, skipped,
                    files=tuple(files), warnings=notes)


def coerce_channels(img: np.ndarray, channels: int) -> np.ndarray:
    """A gray HxW image as HxWx3 when the set is RGB (channels 3); else unchanged."""
    if channels == 3 and img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    return img



# ---- spec -----------------------------------------------------------------------------------

ACCEPTED_DATA = ("digits, imagefolder:PATH, or one of "
                 + ", ".join(k + ":ROOT" for k in DATA_KINDS[2:]))


def parse_data(spec: str) -> tuple[str, str]:
    """Split "kind:PATH" (or "digits", which takes no path) into (kind, path)."""
    kind, colon, path = spec.strip().partition(":")
    kind = kind.lower()
    if kind not in DATA_KINDS:
        raise VersusError(f"Unknown data {spec!r}: use {ACCEPTED_DATA}.")
    if kind == "digits" and colon:
        raise VersusError(f"digits takes no path, so {spec!r} is not understood: use {ACCEPTED_DATA}.")
    if kind != "digits" and not path:
        raise VersusError(f"{kind} needs a folder: {kind}:PATH.")
    return kind, path


def load_data(spec: str, max_pixels: int = DEFAULT_MAX_PIXELS, skip_bad_images: bool = False) -> EvalData:
    """The evaluation set named by a DATA spec (see DESIGN.md). max_pixels bounds every image
    of every kind (an 8x8 digit is 64 pixels); skip_bad_images applies to image folders."""
    kind, path = parse_data(spec)
    if max_pixels < 1:
        raise VersusError(f"--max-pixels must be a positive number of pixels, not {max_pixels}.")
    if kind == "digits":
        check_image_pixels("The digits set", 8, 8, max_pixels)
        return load_digits_test()
    if kind == "imagefolder":
        return load_imagefolder(path, max_pixels, skip_bad_images)
    from core import dataset_files  # imports this module's bounds and EvalData

    if kind in dataset_files.MNIST_FOLDER:
        return dataset_files.load_mnist_family(kind, path, max_pixels)
    if kind in ("cifar10", "cifar100"):
        return dataset_files.load_cifar(kind, path, max_pixels)
    return dataset_files.load_svhn(path, max_pixels)
