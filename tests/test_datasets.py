"""Datasets read from files the tests write: MNIST idx roots, ImageFolders, CIFAR, SVHN."""
import pickle

import numpy as np
import pytest

from core.datasets import load_data, load_digits_test
from core.errors import VersusError
from tests.helpers import write_imagefolder, write_mnist_root


def test_digits_split_is_the_held_out_30_percent():
    d = load_digits_test()
    assert len(d) == 540 and d.class_names == [str(k) for k in range(10)]
    assert d.image(0).dtype == np.uint8 and d.image(0).shape == (8, 8)
    assert d.default_size == (28, 28) and d.native_channels == 1
    assert np.bincount(d.truth).min() >= 50


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_root_from_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12).astype(np.uint8)
    write_mnist_root(tmp_path, images, labels, gz)
    d = load_data(f"mnist:{tmp_path}")
    assert len(d) == 12
    np.testing.assert_array_equal(d.truth, labels)
    np.testing.assert_array_equal(d.image(5), images[5])


def test_mnist_root_missing_files_says_which(tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    with pytest.raises(VersusError, match="t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte.*MNIST/raw"):
        load_data(f"mnist:{tmp_path}")
    with pytest.raises(VersusError, match="does not exist"):
        load_data(f"kmnist:{tmp_path / 'nope'}")


def test_imagefolder_skips_non_images_and_says_so(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (9, 20, 20, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2] * 3)
    rel = write_imagefolder(tmp_path, images, labels, ["cat", "dog", "eel"])
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(VersusError, match=r"^The image dog/broken.png cannot be used .*--skip-bad-images\.$"):
        load_data(f"imagefolder:{tmp_path}")
    d = load_data(f"imagefolder:{tmp_path}", skip_bad_images=True)
    assert d.class_names == ["cat", "dog", "eel"] and len(d) == 9
    assert d.skipped == ["cat/notes.txt"]
    assert len(d.warnings) == 1 and "Skipped 1 bad image" in d.warnings[0] and "dog/broken.png" in d.warnings[0]
    k = list(d.ids).index(rel[4])
    np.testing.assert_array_equal(d.image(k), images[4])
    assert d.truth[k] == labels[4] and d.native_size == (20, 20) and d.native_channels == 3


def test_imagefolder_fingerprint_follows_content(tmp_path):
    images = np.zeros((2, 8, 8), np.uint8)
    write_imagefolder(tmp_path, images, np.array([0, 1]), ["a", "b"])
    before = load_data(f"imagefolder:{tmp_path}").fingerprint
    from PIL import Image

    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "a" / "img_0000.png")
    assert load_data(f"imagefolder:{tmp_path}").fingerprint != before


def test_empty_or_bad_folders(tmp_path):
    with pytest.raises(VersusError, match="no class subfolders"):
        load_data(f"imagefolder:{tmp_path}")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    with pytest.raises(VersusError, match="no readable images"):
        load_data(f"imagefolder:{tmp_path}")
    with pytest.raises(VersusError, match="Unknown data"):
        load_data("imagenet:/x")


def test_cifar10_batch_read_without_running_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = np.arange(4 * 3072, dtype=np.uint8).reshape(4, 3072)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": data, "labels": [3, 1, 0, 9]}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{k}" for k in range(10)]}, fh)
    d = load_data(f"cifar10:{tmp_path}")
    assert len(d) == 4 and d.class_names[3] == "c3" and list(d.truth) == [3, 1, 0, 9]
    np.testing.assert_array_equal(d.image(1)[:, :, 0].ravel(), data[1, :1024])

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": Evil(), "labels": []}, fh)
    with pytest.raises(VersusError, match="not a readable CIFAR batch"):
        load_data(f"cifar10:{tmp_path}")


def test_svhn_mat(tmp_path):
    from scipy.io import savemat

    x = np.random.default_rng(2).integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    savemat(tmp_path / "test_32x32.mat", {"X": x, "y": np.array([[10], [1], [2], [3], [4]])})
    d = load_data(f"svhn:{tmp_path}")
    assert list(d.truth) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(d.image(2), x[:, :, :, 2])
