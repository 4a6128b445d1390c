"""torchvision's dataset files, read from a local root only (never downloaded): the MNIST family
(idx files), CIFAR-10/100 (python pickles, through a restricted unpickler) and SVHN (a .mat file).
Each is bounded from its header before anything is inflated (core.datasets' bounds)."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.cache import file_sha256
from core.datasets import EvalData, array_data, check_decoded_bytes, check_image_pixels, max_data_bytes
from core.errors import VersusError, first_line
from core.run_options import DEFAULT_MAX_PIXELS

READ_CHUNK = 1 << 20

# ---- MNIST family (idx files) ----------------------------------------------------------------

MNIST_CLASSES = {
    "mnist": [str(k) for k in range(10)],
    "fashionmnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
}
MNIST_FOLDER = {"mnist": "MNIST", "fashionmnist": "FashionMNIST", "kmnist": "KMNIST"}
MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def read_idx(path: Path, check: Callable[[tuple[int, ...]], None] = lambda shape: None) -> np.ndarray:
    """An unsigned-byte idx file (optionally gzipped) as an array. Only the header is read before
    check(shape) runs, so a shape it refuses is never decompressed nor allocated; the data is then
    read in chunks into one array of exactly the declared size."""
    gz = path.suffix == ".gz"
    try:
        with (gzip.open if gz else open)(path, "rb") as fh:
            shape = _idx_shape(fh)
            n = int(np.prod(shape, dtype=object))
            on_disk = None if gz else path.stat().st_size - 4 - 4 * len(shape)
            if on_disk is not None and on_disk != n:
                raise ValueError(f"its header declares {n:,} bytes of data but it holds {on_disk:,}")
            check(shape)
            out = np.empty(n, np.uint8)
            view, pos = memoryview(out), 0
            while pos < n:
                got = fh.readinto(view[pos : pos + READ_CHUNK])
                if not got:
                    raise ValueError(f"it ends after {pos:,} of the {n:,} bytes its header declares")
                pos += got
            if fh.read(1):
                raise ValueError(f"it holds more than the {n:,} bytes its header declares")
            return out.reshape(shape)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise VersusError(f"{path} is not a readable idx file ({first_line(exc)}).") from None


def _idx_shape(fh) -> tuple[int, ...]:
    """The shape an idx header declares (the first 4 + 4 * ndim bytes of the stream)."""
    head = fh.read(4)
    if len(head) < 4:
        raise ValueError("it is shorter than an idx header")
    zero, dtype_code, ndim = struct.unpack(">HBB", head)
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("not an unsigned-byte idx file")
    dims = fh.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError("its header is cut short")
    return struct.unpack(f">{ndim}I", dims)


def _mnist_images_check(path: Path, max_pixels: int) -> Callable[[tuple[int, ...]], None]:
    """check() for an idx images file: N x H x W, each image within max_pixels, the whole
    within VERSUS_MAX_DATA_BYTES."""
    def check(shape: tuple[int, ...]) -> None:
        if len(shape) != 3:
            raise VersusError(f"{path} declares shape {shape}, not N x H x W images.")
        check_image_pixels(str(path), shape[1], shape[2], max_pixels)
        check_decoded_bytes(f"{path} ({shape[0]:,} images of {shape[1]}x{shape[2]})", shape[0] * shape[1] * shape[2])
    return check


def _find_file(root: Path, sub: str, name: str) -> Path | None:
    for folder in (root / sub / "raw", root / sub, root / "raw", root):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_mnist_family(kind: str, root: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> EvalData:
    """The test split of MNIST, FashionMNIST or KMNIST from idx files under root; the declared
    shapes are checked (max_pixels, VERSUS_MAX_DATA_BYTES, one label per image) before any data
    is read."""
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
    images = read_idx(found[0], _mnist_images_check(found[0], max_pixels))

    def one_label_per_image(shape: tuple[int, ...]) -> None:
        if shape != (len(images),):
            raise VersusError(f"{found[0]} and {found[1]} do not match ({images.shape} images, labels {shape}).")

    labels = read_idx(found[1], one_label_per_image)
    if len(labels) and labels.max() >= len(MNIST_CLASSES[kind]):
        raise VersusError(f"{found[1]} holds the label {labels.max()}, outside the {len(MNIST_CLASSES[kind])} "
                          f"classes of {kind}.")
    digest = hashlib.sha256(file_sha256(found[0]).encode() + file_sha256(found[1]).encode()).hexdigest()
    return array_data(kind, images, labels.astype(np.int64), [f"{kind}-test-{i:05d}" for i in range(len(images))],
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


CIFAR_SIDE = 32


def _read_cifar_batch(path: Path) -> tuple[Any, str]:
    """A CIFAR pickle and the sha256 of its bytes, read once and whole (at most
    VERSUS_MAX_DATA_BYTES) and unpickled from memory, so no length it declares can make the
    unpickler allocate more than the file holds."""
    check_decoded_bytes(str(path), path.stat().st_size)
    data = path.read_bytes()
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load(), hashlib.sha256(data).hexdigest()
    except Exception as exc:
        raise VersusError(f"{path} is not a readable CIFAR batch file ({first_line(exc)}).") from None


def _cifar_arrays(batch: dict, label_key: str, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch's uint8 N x 3072 'data' and its N integer labels, checked before numpy copies
    anything: a list there could repeat one pickled object and expand a thousandfold."""
    raw, labels = batch["data"], batch[label_key]
    if not isinstance(raw, np.ndarray) or raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != 3072:
        what = f"{raw.dtype} {raw.shape}" if isinstance(raw, np.ndarray) else f"a {type(raw).__name__}"
        raise ValueError(f"'data' is {what}, not a uint8 N x 3072 array")
    if isinstance(labels, (list, tuple)) and not all(type(v) is int for v in labels):
        raise ValueError(f"'{label_key}' holds something other than integers")
    if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != len(raw):
        raise ValueError(f"'{label_key}' does not hold {len(raw)} labels")
    labels = np.asarray(labels)
    if labels.shape != (len(raw),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"'{label_key}' holds {labels.shape} {labels.dtype}, not {len(raw)} integer labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"a label lies outside the {classes} classes")
    return raw, labels


def load_cifar(kind: str, root: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> EvalData:
    """The CIFAR-10 or CIFAR-100 test batch from its python-version folder under root (32x32
    images: refused up front when max_pixels is below 1,024)."""
    base = Path(root).expanduser()
    folder = "cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python"
    test_name, meta_name, key = (("test_batch", "batches.meta", "label_names") if kind == "cifar10"
                                 else ("test", "meta", "fine_label_names"))
    test_path, meta_path = base / folder / test_name, base / folder / meta_name
    missing = [str(p) for p in (test_path, meta_path) if not p.is_file()]
    if missing:
        raise VersusError(f"{kind} needs {' and '.join(missing)}; not found.")
    check_image_pixels(str(test_path), CIFAR_SIDE, CIFAR_SIDE, max_pixels)
    (batch, test_sha256), (meta, _) = _read_cifar_batch(test_path), _read_cifar_batch(meta_path)
    label_key = "labels" if kind == "cifar10" else "fine_labels"
    if not isinstance(batch, dict) or "data" not in batch or label_key not in batch:
        raise VersusError(f"{test_path} is damaged: it lacks the 'data' and '{label_key}' entries of a CIFAR batch.")
    names = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(names, (list, tuple)) or not all(isinstance(c, str) for c in names):
        raise VersusError(f"{meta_path} is damaged: it lacks the '{key}' list of class names.")
    try:
        raw, labels = _cifar_arrays(batch, label_key, len(names))
    except (ValueError, TypeError) as exc:
        raise VersusError(f"{test_path} is damaged: {first_line(exc)}.") from None
    data = raw.reshape(-1, 3, CIFAR_SIDE, CIFAR_SIDE).transpose(0, 2, 3, 1)
    digest = hashlib.sha256(test_sha256.encode()).hexdigest()
    return array_data(kind, data, labels.astype(np.int64), [f"{kind}-test-{i:05d}" for i in range(len(data))],
                       list(names), f"{kind}:{digest}")


def load_svhn(root: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> EvalData:
    """SVHN's test_32x32.mat under root (label 10 means digit 0, as torchvision maps it). The
    32x32 size is checked against max_pixels, the shape 'X' declares (read from its header) and
    the bytes the file inflates to (VERSUS_MAX_DATA_BYTES) before scipy reads any variable."""
    path = Path(root).expanduser() / "test_32x32.mat"
    if not path.is_file():
        raise VersusError(f"svhn needs {path}; not found.")
    from scipy.io import loadmat, whosmat

    check_image_pixels(str(path), CIFAR_SIDE, CIFAR_SIDE, max_pixels)
    try:
        declared = {name: tuple(shape) for name, shape, _ in whosmat(path)}
        if "X" in declared and declared["X"][:3] != (CIFAR_SIDE, CIFAR_SIDE, 3):
            raise VersusError(f"{path} is damaged: 'X' is declared {declared['X']}, not 32 x 32 x 3 x N.")
        check_decoded_bytes(str(path), mat_decoded_bytes(path, max_data_bytes()))
        mat = loadmat(path, variable_names=["X", "y"])
    except VersusError:
        raise
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
    return array_data("svhn", images, labels, [f"svhn-test-{i:05d}" for i in range(len(images))],
                       [str(k) for k in range(10)], f"svhn:{file_sha256(path)}")


MAT5_COMPRESSED = 15  # miCOMPRESSED: one zlib-deflated variable


def mat_decoded_bytes(path: Path, limit: int) -> int:
    """The bytes a version-5 .mat file's variables take once inflated, counted by inflating each
    compressed one in chunks that are thrown away; counting stops once past limit. Any other file
    (version 4 is never compressed; 7.3 scipy refuses) counts as its size on disk."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(128)
        if len(head) < 128 or head[126:128] not in (b"IM", b"MI"):
            return size
        order = "<" if head[126:128] == b"IM" else ">"
        if struct.unpack(order + "H", head[124:126])[0] != 0x0100:
            return size
        total = 0
        while total <= limit:
            tag = fh.read(8)
            if len(tag) < 8:
                break
            mdtype, nbytes = struct.unpack(order + "II", tag)
            nbytes = min(nbytes, size - fh.tell())
            if mdtype == MAT5_COMPRESSED:
                total += _inflated_bytes(fh, nbytes, limit - total + 1)
            else:
                total += nbytes
                fh.seek(nbytes, os.SEEK_CUR)
    return total


def _inflated_bytes(fh, nbytes: int, cap: int) -> int:
    """How many bytes the next nbytes of fh (one zlib stream) inflate to, up to cap (then the
    rest is not inflated; fh is left wherever it stopped)."""
    inflater, out, left = zlib.decompressobj(), 0, nbytes
    while left and out < cap:
        data = fh.read(min(left, READ_CHUNK))
        if not data:
            break
        left -= len(data)
        while data and out < cap:
            out += len(inflater.decompress(data, READ_CHUNK))
            data = inflater.unconsumed_tail
    return out
