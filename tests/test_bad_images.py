"""Bad images in an ImageFolder and damaged CIFAR/SVHN files: one sentence naming the file, or
skipped and listed with --skip-bad-images; the decoding workers survive a bad image."""
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from core.architectures import ConvNet
from core.datasets import load_data
from core.errors import VersusError
from core.inference import run_models
from core.preprocessing import Preprocessing
from tests.helpers import write_imagefolder


def _folder(tmp_path, n=12, size=20):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    labels = np.arange(n) % 3
    write_imagefolder(tmp_path, images, labels, ["a", "b", "c"])
    return images


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_truncated_image_found_at_decode_names_the_file_and_workers_survive(tmp_path):
    _folder(tmp_path)
    _truncate(tmp_path / "b" / "img_0004.png")
    data = load_data(f"imagefolder:{tmp_path}")  # the header is fine: listed
    model, prep = ConvNet(in_channels=3).eval(), Preprocessing((28, 28), 3)
    for _ in range(2):  # the same pool design serves a second run after the error
        with pytest.raises(VersusError, match=r"^The image b/img_0004.png cannot be used \(.*truncated"):
            run_models([model], [prep], data, torch.device("cpu"), batch_size=4, workers=2)
    # skipping finds the truncated file up front; the rest runs
    data = load_data(f"imagefolder:{tmp_path}", skip_bad_images=True)
    assert len(data) == 11 and "b/img_0004.png" in data.warnings[0]
    out = run_models([model], [prep], data, torch.device("cpu"), batch_size=4, workers=2)[0]
    assert out.scores.shape == (11, 10)


def test_oversized_image_and_decompression_bomb(tmp_path):
    _folder(tmp_path, n=3)
    Image.new("L", (300, 300)).save(tmp_path / "a" / "big.png")
    with pytest.raises(VersusError, match=r"a/big.png cannot be used \(300x300 pixels is over the limit of 50,000"):
        load_data(f"imagefolder:{tmp_path}", max_pixels=50_000)
    assert len(load_data(f"imagefolder:{tmp_path}", max_pixels=90_000)) == 4
    d = load_data(f"imagefolder:{tmp_path}", max_pixels=50_000, skip_bad_images=True)
    assert len(d) == 3 and "a/big.png" in d.warnings[0]
    # a PNG header claiming 40000 x 40000 pixels (1.6 gigapixels) in a few bytes: over Pillow's default
    (tmp_path / "a" / "big.png").unlink()
    Image.new("1", (40000, 40000)).save(tmp_path / "c" / "bomb.png")
    assert (tmp_path / "c" / "bomb.png").stat().st_size < 500_000
    with pytest.raises(VersusError, match="c/bomb.png cannot be used .*over the limit"):
        load_data(f"imagefolder:{tmp_path}")


def test_damaged_cifar_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{k}" for k in range(10)]}, fh)
    cases = [
        ({"labels": [1]}, "lacks the 'data' and 'labels'"),
        ({"data": np.zeros((2, 100), np.uint8), "labels": [1, 2]}, "not a uint8 N x 3072 array"),
        ({"data": np.zeros((2, 3072), np.float64), "labels": [1, 2]}, "not a uint8 N x 3072 array"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [1]}, "'labels' does not hold 2 labels"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": ["x", "y"]}, "'labels' holds something other than"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [1, 12]}, "outside the 10 classes"),
        ([1, 2, 3], "lacks the 'data'"),
    ]
    for batch, message in cases:
        with open(folder / "test_batch", "wb") as fh:
            pickle.dump(batch, fh)
        with pytest.raises(VersusError, match=message):
            load_data(f"cifar10:{tmp_path}")
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2]}, fh)
    assert len(load_data(f"cifar10:{tmp_path}")) == 2
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"names": []}, fh)
    with pytest.raises(VersusError, match="lacks the 'label_names' list"):
        load_data(f"cifar10:{tmp_path}")


def test_damaged_svhn_files(tmp_path):
    from scipy.io import savemat

    x = np.zeros((32, 32, 3, 4), np.uint8)
    cases = [
        ({"X": x}, "lacks the 'y' entry"),
        ({"X": np.zeros((5, 5)), "y": np.ones((4, 1))}, "not 32 x 32 x 3 x N"),
        ({"X": x, "y": np.ones((3, 1))}, "3 float64 values for 4 images"),
        ({"X": x, "y": np.array([[1], [2], [3], [99]])}, "outside 0..10"),
    ]
    for mat, message in cases:
        savemat(tmp_path / "test_32x32.mat", mat)
        with pytest.raises(VersusError, match=message):
            load_data(f"svhn:{tmp_path}")
