"""Evaluation sets: the embedded digits demo, ImageFolder, and torchvision datasets read
from local files only (never downloaded)."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.cache import file_sha256
from core.errors import VersusError, first_line

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
DATA_KINDS = ("digits", "imagefolder", "mnist", "fashionmnist", "kmnist", "cifar10", "cifar100", "svhn")


@dataclass
class EvalData:
    """An evaluation set: ids, truth, class names and lazy uint8 images.

    `native_size` is (H, W) when every image has the same size, `default_size` the size a
    model should see by default, `native_channels` 1 or 3; `array` holds every image when the
    set lives in memory (then batches are sliced, not decoded one by one).
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

    def __len__(self) -> int:
        return len(self.ids)

    def image(self, i: int) -> np.ndarray:
        """Image i as uint8 HxW or HxWx3."""
        return self.loader(int(i))


def _array_data(name: str, images: np.ndarray, truth: np.ndarray, ids: list[str],
                classes: list[str], fingerprint: str, default_size=None) -> EvalData:
    images = np.ascontiguousarray(images)
    channels = 3 if images.ndim == 4 else 1
    return EvalData(name, np.array(ids, dtype=object), np.asarray(truth, np.int64), classes,
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


def read_image(source: Path | io.BytesIO) -> np.ndarray:
    """An image file's pixels as uint8 HxW (gray) or HxWx3 (RGB)."""
    with Image.open(source) as im:
        return np.asarray(im.convert("L") if im.mode in GRAY_MODES else im.convert("RGB"), dtype=np.uint8)


def load_imagefolder(root: str | os.PathLike) -> EvalData:
    """root/<class>/<image>: classes are the sorted subfolder names. Files that are not
    readable images are skipped and listed in `skipped`."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise VersusError(f"The image folder {root} does not exist.")
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise VersusError(f"The image folder {root} has no class subfolders (expected {root}/<class>/<image>).")
    files, truth, skipped = [], [], []
    h = hashlib.sha256()
    sizes, modes = set(), set()
    for k, cls in enumerate(classes):
        for f in sorted((base / cls).rglob("*"), key=lambda p: str(p)):
            if not f.is_file() or f.name.startswith("."):
                continue
            rel = f.relative_to(base).as_posix()
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append(rel)
                continue
            try:
                with Image.open(f) as im:
                    sizes.add((im.height, im.width))
                    modes.add("L" if im.mode in GRAY_MODES else "RGB")
            except (UnidentifiedImageError, OSError):
                skipped.append(rel)
                continue
            files.append(f)
            truth.append(k)
            h.update(rel.encode() + b"\0" + file_sha256(f).encode())
    if not files:
        raise VersusError(f"The image folder {root} holds no readable images under its class folders.")
    size = next(iter(sizes)) if len(sizes) == 1 else None
    channels = 1 if modes == {"L"} else 3
    ids = [f.relative_to(base).as_posix() for f in files]
    return EvalData(f"imagefolder:{base}", np.array(ids, dtype=object), np.array(truth, np.int64),
                    classes, lambda i: _coerce(read_image(files[i]), channels), f"imagefolder:{h.hexdigest()}",
                    size, channels, size, skipped)


def _coerce(img: np.ndarray, channels: int) -> np.ndarray:
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
    labels = batch.get("labels", batch.get("fine_labels"))
    data = np.asarray(batch["data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    digest = hashlib.sha256(file_sha256(test_path).encode()).hexdigest()
    return _array_data(kind, data, np.asarray(labels, np.int64), [f"{kind}-test-{i:05d}" for i in range(len(data))],
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
    images = np.transpose(mat["X"], (3, 0, 1, 2)).astype(np.uint8)
    labels = mat["y"].astype(np.int64).ravel() % 10
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


def load_data(spec: str) -> EvalData:
    """The evaluation set named by a DATA spec (see DESIGN.md)."""
    kind, path = parse_data(spec)
    if kind == "digits":
        return load_digits_test()
    if kind == "imagefolder":
        return load_imagefolder(path)
    if kind in MNIST_FOLDER:
        return load_mnist_family(kind, path)
    if kind in ("cifar10", "cifar100"):
        return load_cifar(kind, path)
    return load_svhn(path)

