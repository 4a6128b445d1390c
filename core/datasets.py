"""Evaluation sets: the embedded digits demo, ImageFolder, and torchvision datasets read
from local files only (never downloaded)."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.cache import file_sha256
from core.errors import VersusError, first_line
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


def _array_data(name: str, images: np.ndarray, truth: np.ndarray, ids: list[str],
                classes: list[str], fingerprint: str, default_size=None) -> EvalData:
    images = np.ascontiguousarray(images)
    channels = 3 if images.ndim == 4 else 1
    return EvalData(name, ids, np.asarray(truth, np.int64), classes,
                    lambda i: images[i], fingerprint, tuple(images.shape[1:3]), channels,
                    default_size or tuple(images.shape[1:3]), array=images)


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
    return _array_data("digits", s["images"][te], s["target"][te], [f"digits-{i:04d}" for i in te],
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
    and said in `warnings` (then every image is decoded once here, to find truncated files)."""
    if max_pixels < 1:
        raise VersusError(f"--max-pixels must be a positive number of pixels, not {max_pixels}.")
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



# ---- MNIST family (idx files) ----------------------------------------------------------------

MNIST_CLASSES = {
    "mnist": [str(k) for k in range(10)],
    "fashionmnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
}
MNIST_FOLDER = {"mnist": "MNIST", "fashionmnist": "FashionMNIST", "kmnist": "KMNIST"}
MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def read_idx(path: Path) -> np.ndarray:
    """Read an idx file (optionally gzipped) into a numpy array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte idx file")
        shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
        arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        return arr.reshape(shape)
    except (OSError, ValueError, struct.error, EOFError) as exc:
        raise VersusError(f"{path} is not a readable idx file ({exc}).") from None


def _find_file(root: Path, sub: str, name: str) -> Path | None:
    for folder in (root / sub / "raw", root / sub, root / "raw", root):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_mnist_family(kind: str, root: str | os.PathLike) -> EvalData:
    """The test split of MNIST, FashionMNIST or KMNIST from idx files under root."""
    base = Path(root).expanduser()
    sub = MNIST_FOLDER[kind]
    if not base.is_dir():
        raise VersusError(f"The dataset root {root} does not exist.")
    found = [_find_file(base, sub, n) for n in MNIST_FILES]
    if any(f is None for f in found):
        missing = [n for n, f in zip(MNIST_FILES, found) if f is None]
        raise VersusError(
            f"{kind} needs {' and '.join(missing)} (optionally .gz) in {base / sub / 'raw'} "
            f"or {base}; not found."
        )
    images, labels = read_idx(found[0]), read_idx(found[1])
    if images.ndim != 3 or len(images) != len(labels):
        raise VersusError(f"{found[0]} and {found[1]} do not match ({images.shape} images, {len(labels)} labels).")
    digest = hashlib.sha256(file_sha256(found[0]).encode() + file_sha256(found[1]).encode()).hexdigest()
    return _array_data(kind, images, labels.astype(np.int64), [f"{kind}-test-{i:05d}" for i in range(len(images))],
                       MNIST_CLASSES[kind], f"{kind}:{digest}")


# ---- CIFAR (python pickles, read with a restricted unpickler) ---------------------------------

class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that only builds numpy arrays and plain containers."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a dataset file")


def _read_cifar_batch(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return _NumpyOnlyUnpickler(fh, encoding="latin1").load()
    except Exception as exc:
        raise VersusError(f"{path} is not a readable CIFAR batch file ({first_line(exc)}).") from None


def load_cifar(kind: str, root: str | os.PathLike) -> EvalData:
    """The CIFAR-10 or CIFAR-100 test batch from its python-version folder under root."""
    base = Path(root).expanduser()
    folder = "cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python"
    test_name, meta_name, key = (("test_batch", "batches.meta", "label_names") if kind == "cifar10"
                                 else ("test", "meta", "fine_label_names"))
    test_path, meta_path = base / folder / test_name, base / folder / meta_name
    missing = [str(p) for p in (test_path, meta_path) if not p.is_file()]
    if missing:
        raise VersusError(f"{kind} needs {' and '.join(missing)}; not found.")
    batch, meta = _read_cifar_batch(test_path), _read_cifar_batch(meta_path)
    label_key = "labels" if kind == "cifar10" else "fine_labels"
    if not isinstance(batch, dict) or "data" not in batch or label_key not in batch:
        raise VersusError(f"{test_path} is damaged: it lacks the 'data' and '{label_key}' entries of a CIFAR batch.")
    if not isinstance(meta, dict) or not isinstance(meta.get(key), (list, tuple)):
        raise VersusError(f"{meta_path} is damaged: it lacks the '{key}' list of class names.")
    try:
        raw = np.asarray(batch["data"])
        labels = np.asarray(batch[label_key])
        if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != 3072:
            raise ValueError(f"'data' is {raw.dtype} {raw.shape}, not uint8 N x 3072")
        if labels.shape != (len(raw),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"'{label_key}' holds {labels.shape} {labels.dtype}, not {len(raw)} integer labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(meta[key])):
            raise ValueError(f"a label lies outside the {len(meta[key])} classes")
    except (ValueError, TypeError) as exc:
        raise VersusError(f"{test_path} is damaged: {first_line(exc)}.") from None
    data = raw.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    digest = hashlib.sha256(file_sha256(test_path).encode()).hexdigest()
    return _array_data(kind, data, labels.astype(np.int64), [f"{kind}-test-{i:05d}" for i in range(len(data))],
                       [str(c) for c in meta[key]], f"{kind}:{digest}")


def load_svhn(root: str | os.PathLike) -> EvalData:
    """SVHN's test_32x32.mat under root (label 10 means digit 0, as torchvision maps it)."""
    path = Path(root).expanduser() / "test_32x32.mat"
    if not path.is_file():
        raise VersusError(f"svhn needs {path}; not found.")
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except Exception as exc:
        raise VersusError(f"{path} is not a readable .mat file ({first_line(exc)}).") from None
    try:
        x, y = mat["X"], mat["y"]
        if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
            raise ValueError(f"'X' has shape {getattr(x, 'shape', None)}, not 32 x 32 x 3 x N")
        if not np.issubdtype(x.dtype, np.integer) and not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"'X' holds {x.dtype}, not pixels")
        y = np.asarray(y).ravel()
        if len(y) != x.shape[3] or not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
            raise ValueError(f"'y' holds {len(y)} {y.dtype} values for {x.shape[3]} images")
        if len(y) and (y.min() < 0 or y.max() > 10):
            raise ValueError("a label lies outside 0..10")
    except KeyError as exc:
        raise VersusError(f"{path} is damaged: it lacks the {exc} entry of SVHN's test_32x32.mat.") from None
    except ValueError as exc:
        raise VersusError(f"{path} is damaged: {first_line(exc)}.") from None
    images = np.transpose(x, (3, 0, 1, 2)).astype(np.uint8)
    labels = y.astype(np.int64) % 10
    return _array_data("svhn", images, labels, [f"svhn-test-{i:05d}" for i in range(len(images))],
                       [str(k) for k in range(10)], f"svhn:{file_sha256(path)}")



# ---- spec -----------------------------------------------------------------------------------

def parse_data(spec: str) -> tuple[str, str]:
    """Split "kind:PATH" (or "digits") into (kind, path)."""
    kind, _, path = spec.strip().partition(":")
    kind = kind.lower()
    if kind not in DATA_KINDS:
        raise VersusError(f"Unknown data {spec!r}: use digits, imagefolder:PATH, or one of "
                          f"{', '.join(k + ':ROOT' for k in DATA_KINDS[2:])}.")
    if kind != "digits" and not path:
        raise VersusError(f"{kind} needs a folder: {kind}:PATH.")
    return kind, path


def load_data(spec: str, max_pixels: int = DEFAULT_MAX_PIXELS, skip_bad_images: bool = False) -> EvalData:
    """The evaluation set named by a DATA spec (see DESIGN.md); max_pixels and skip_bad_images
    apply to image folders (load_imagefolder)."""
    kind, path = parse_data(spec)
    if kind == "digits":
        return load_digits_test()
    if kind == "imagefolder":
        return load_imagefolder(path, max_pixels, skip_bad_images)
    if kind in MNIST_FOLDER:
        return load_mnist_family(kind, path)
    if kind in ("cifar10", "cifar100"):
        return load_cifar(kind, path)
    return load_svhn(path)

