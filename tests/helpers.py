"""Files the tests write themselves: MNIST-format idx files, ImageFolders, Parquet predictions."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    """Write a uint8 array as an idx file (the MNIST format)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(f"{path}.gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def write_mnist_root(root: Path, images: np.ndarray, labels: np.ndarray, gz: bool = False) -> Path:
    """root/MNIST/raw/t10k-{images,labels}-idx* as torchvision lays them out."""
    raw = root / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", images, gz)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels, gz)
    return root


def write_imagefolder(root: Path, images: np.ndarray, labels: np.ndarray, classes: list[str]) -> list[str]:
    """root/<class>/img_<i>.png for every image; returns the relative paths in order written."""
    rel = []
    for i, (img, y) in enumerate(zip(images, labels)):
        p = root / classes[int(y)] / f"img_{i:04d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(p)
        rel.append(p.relative_to(root).as_posix())
    return rel


def many_class_files(folder: Path, n: int = 1500, c: int = 1000) -> tuple:
    """Two Parquet prediction files of the same n examples over c classes (B more skilled):
    (A's Predictions, B's, [A's path, B's path])."""
    import pandas as pd

    from tests.conftest import make_predictions

    a = make_predictions(n, c, seed=1, skill=4.0)
    b = make_predictions(n, c, seed=2, skill=5.0, truth=a.truth)
    paths = []
    for side, p in (("a", a), ("b", b)):
        cols = {"id": p.ids.astype(object), "truth": [p.class_names[t] for t in p.truth]}
        cols |= {f"score_{k}": p.scores[:, j] for j, k in enumerate(p.class_names)}
        paths.append(folder / f"{side}.parquet")
        pd.DataFrame(cols).to_parquet(paths[-1])
    return a, b, paths
