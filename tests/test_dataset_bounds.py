"""Evaluation sets held in memory are bounded before they are decoded: the shape an idx header,
a CIFAR pickle or an SVHN .mat file declares is checked against --max-pixels (per image) and
VERSUS_MAX_DATA_BYTES (the whole set), and --data refuses what it does not understand."""
import gzip
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.architectures import ConvNet
from core.dataset_files import mat_decoded_bytes
from core.datasets import MAX_DATA_BYTES_ENV, load_data
from core.errors import VersusError
from tests.helpers import write_mnist_root

IDX_HEADER = struct.pack(">HBB", 0, 8, 3)


def _raw(root):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    return raw


def _labels(raw, n, gz=True):
    name = "t10k-labels-idx1-ubyte" + (".gz" if gz else "")
    with (gzip.open if gz else open)(raw / name, "wb") as fh:
        fh.write(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", n) + bytes(n))


def test_a_gzip_idx_bomb_is_refused_from_its_header_alone(tmp_path):
    # Only the header is in the file: had the loader inflated or allocated first, it would
    # report the data as cut short instead of naming the bound.
    raw = _raw(tmp_path)
    with gzip.open(raw / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(IDX_HEADER + struct.pack(">3I", 3, 20000, 20000))
    _labels(raw, 3)
    with pytest.raises(VersusError, match=r"^\S+t10k-images-idx3-ubyte.gz holds images of 20000x20000 pixels "
                                          r"\(400,000,000 each\), over --max-pixels 1,000; raise --max-pixels"):
        load_data(f"mnist:{tmp_path}", max_pixels=1000)


def test_idx_total_bytes_bounded_by_the_environment(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    write_mnist_root(tmp_path, images, np.array([3, 7], np.uint8), gz=True)
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, str(2 * 784 - 1))
    with pytest.raises(VersusError, match=r"\(2 images of 28x28\) would take 1,568 bytes once decoded, over the "
                                          r"limit of 1,567; .*VERSUS_MAX_DATA_BYTES\.$"):
        load_data(f"mnist:{tmp_path}")
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, str(2 * 784))
    d = load_data(f"mnist:{tmp_path}")
    np.testing.assert_array_equal(d.image(1), images[1])
    assert list(d.truth) == [3, 7]


def test_idx_per_image_bound_is_inclusive(tmp_path):
    write_mnist_root(tmp_path, np.zeros((2, 28, 28), np.uint8), np.array([0, 1], np.uint8))
    with pytest.raises(VersusError, match="28x28 pixels .784 each., over --max-pixels 783;"):
        load_data(f"mnist:{tmp_path}", max_pixels=783)
    assert len(load_data(f"mnist:{tmp_path}", max_pixels=784)) == 2


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("extra, reason", [(-1, "it ends after 1,567 of the 1,568 bytes its header declares"),
                                           (1, "it holds more than the 1,568 bytes its header declares")])
def test_idx_data_must_be_exactly_what_the_header_declares(tmp_path, gz, extra, reason):
    raw = _raw(tmp_path)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    with (gzip.open if gz else open)(raw / name, "wb") as fh:
        fh.write(IDX_HEADER + struct.pack(">3I", 2, 28, 28) + bytes(2 * 784 + extra))
    _labels(raw, 2, gz)
    if not gz:  # the size on disk is known before reading
        reason = f"its header declares 1,568 bytes of data but it holds {1568 + extra:,}"
    with pytest.raises(VersusError, match=f"is not a readable idx file \\({reason}\\)\\.$"):
        load_data(f"mnist:{tmp_path}")


def test_idx_labels_are_checked_against_the_images(tmp_path):
    raw = _raw(tmp_path)
    write_mnist_root(tmp_path, np.zeros((3, 4, 4), np.uint8), np.array([0, 1, 2], np.uint8))
    _labels(raw, 2, gz=False)
    with pytest.raises(VersusError, match=r"do not match \(\(3, 4, 4\) images, labels \(2,\)\)"):
        load_data(f"mnist:{tmp_path}")
    write_mnist_root(tmp_path, np.zeros((3, 4, 4), np.uint8), np.array([0, 10, 2], np.uint8))
    with pytest.raises(VersusError, match="holds the label 10, outside the 10 classes of mnist"):
        load_data(f"mnist:{tmp_path}")


def test_max_pixels_bounds_the_digits_too():
    with pytest.raises(VersusError, match=r"^The digits set holds images of 8x8 pixels \(64 each\), "
                                          r"over --max-pixels 63; raise --max-pixels"):
        load_data("digits", max_pixels=63)
    assert len(load_data("digits", max_pixels=64)) == 540
    with pytest.raises(VersusError, match="--max-pixels must be a positive number of pixels, not 0"):
        load_data("digits", max_pixels=0)


@pytest.mark.parametrize("spec", ["digits:extra", "digits:", "Digits:/tmp"])
def test_digits_takes_no_path(spec):
    with pytest.raises(VersusError, match=r"^digits takes no path, so .* is not understood: use digits, "
                                          r"imagefolder:PATH, or one of mnist:ROOT, .*svhn:ROOT\.$"):
        load_data(spec)


def _cifar(root, data, labels):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(exist_ok=True)
    (folder / "test_batch").write_bytes(pickle.dumps({"data": data, "labels": labels}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{k}" for k in range(10)]}))
    return folder / "test_batch"


def test_cifar_pixels_and_file_size_bounded(tmp_path, monkeypatch):
    batch = _cifar(tmp_path, np.zeros((2, 3072), np.uint8), [1, 2])
    with pytest.raises(VersusError, match="32x32 pixels .1,024 each., over --max-pixels 1,023;"):
        load_data(f"cifar10:{tmp_path}", max_pixels=1023)
    assert len(load_data(f"cifar10:{tmp_path}", max_pixels=1024)) == 2
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, str(batch.stat().st_size - 1))
    with pytest.raises(VersusError, match=f"test_batch would take {batch.stat().st_size:,} bytes once decoded"):
        load_data(f"cifar10:{tmp_path}")


def test_cifar_lists_that_repeat_one_object_are_refused_before_numpy_expands_them(tmp_path):
    # pickle stores a repeated object once: 100,000 references to one 3,072-byte row take a few
    # hundred kB on disk and 300 MB once numpy copies them.
    row = np.zeros(3072, np.uint8)
    batch = _cifar(tmp_path, [row] * 100_000, [0] * 100_000)
    assert batch.stat().st_size < 1_000_000
    with pytest.raises(VersusError, match=r"is damaged: 'data' is a list, not a uint8 N x 3072 array\.$"):
        load_data(f"cifar10:{tmp_path}")
    big = list(range(100_000))
    _cifar(tmp_path, np.zeros((3, 3072), np.uint8), [big, big, big])
    with pytest.raises(VersusError, match="'labels' holds something other than integers"):
        load_data(f"cifar10:{tmp_path}")


def _svhn(root, n, compress):
    from scipy.io import savemat

    x = np.zeros((32, 32, 3, n), np.uint8)
    x[0, 0, 0, :] = np.arange(n) % 256
    path = root / "test_32x32.mat"
    savemat(path, {"X": x, "y": (np.arange(n) % 10 + 1).reshape(-1, 1)}, do_compression=compress)
    return path, x


def test_svhn_decoded_bytes_counted_without_inflating_into_memory(tmp_path):
    plain, _ = _svhn(tmp_path, 300, compress=False)
    expected = plain.stat().st_size - 128  # the variables, stored as they decode
    packed, x = _svhn(tmp_path, 300, compress=True)
    assert packed.stat().st_size < expected // 20
    assert mat_decoded_bytes(packed, 10**9) == expected
    assert mat_decoded_bytes(packed, 1000) <= 1000 + (1 << 20)  # stops counting past the limit


def test_svhn_bomb_refused_and_pixels_bounded(tmp_path, monkeypatch):
    path, x = _svhn(tmp_path, 300, compress=True)
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, str(300 * 3072))
    with pytest.raises(VersusError, match=r"test_32x32.mat would take [\d,]+ bytes once decoded, over the limit "
                                          r"of 921,600; .*VERSUS_MAX_DATA_BYTES\.$"):
        load_data(f"svhn:{tmp_path}")
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, str(2 * 300 * 3072))
    d = load_data(f"svhn:{tmp_path}", max_pixels=1024)
    np.testing.assert_array_equal(d.image(299), x[:, :, :, 299])
    with pytest.raises(VersusError, match="32x32 pixels .1,024 each., over --max-pixels 1,023;"):
        load_data(f"svhn:{tmp_path}", max_pixels=1023)


def test_cli_refuses_the_gzip_bomb_in_one_line(tmp_path):
    raw = _raw(tmp_path / "data")
    with gzip.open(raw / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(IDX_HEADER + struct.pack(">3I", 3, 20000, 20000) + bytes(1 << 20))
    _labels(raw, 3)
    ckpt = tmp_path / "a.pt"
    torch.save(ConvNet().state_dict(), ckpt)
    r = subprocess.run([sys.executable, "-m", "core", "compare", "--a", str(ckpt), "--b", str(ckpt),
                        "--arch", "convnet", "--data", f"mnist:{tmp_path / 'data'}", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=300, env={**os.environ})
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "over --max-pixels 89,478,485" in lines[0]


def test_a_junk_data_bound_is_refused_even_when_the_set_would_not_read_it(tmp_path):
    r = subprocess.run([sys.executable, "-m", "core", "compare", "--a", "x.pt", "--b", "y.pt", "--data", "digits",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300,
                       env={**os.environ, MAX_DATA_BYTES_ENV: "lots"})
    assert r.returncode == 2
    assert r.stderr.strip() == "error: VERSUS_MAX_DATA_BYTES='lots' is not a whole number."


def test_svhn_declared_shape_refused_before_any_variable_is_inflated(tmp_path, monkeypatch):
    import scipy.io

    scipy.io.savemat(tmp_path / "test_32x32.mat", {"X": np.zeros((64, 64, 3, 2), np.uint8), "y": [[1], [2]]},
                     do_compression=True)

    def never(*args, **kwargs):
        raise AssertionError("inflated before the declared shape was checked")

    monkeypatch.setattr(scipy.io, "loadmat", never)
    monkeypatch.setattr("core.dataset_files.mat_decoded_bytes", never)
    with pytest.raises(VersusError, match=r"test_32x32.mat is damaged: 'X' is declared \(64, 64, 3, 2\), "
                                          r"not 32 x 32 x 3 x N\.$"):
        load_data(f"svhn:{tmp_path}")
