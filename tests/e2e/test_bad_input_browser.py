"""Bad input through the UI: one clear st.error each, no traceback, and the session goes on."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.e2e.browser import choose, errors, exceptions, metrics, wait_idle
from tests.e2e.conftest import UPLOAD_LIMIT_MB


class _Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, demo_paths):
    d = tmp_path_factory.mktemp("bad")
    good = demo_paths[0].read_bytes()
    (d / "truncated.pt").write_bytes(good[: len(good) // 3])
    (d / "random.pt").write_bytes(os.urandom(50_000))
    marker = d / "PAYLOAD_RAN"
    torch.save({"x": _Payload(str(marker))}, d / "untrusted.pt")
    torch.save({"head.weight": torch.zeros(10, 64), "head.bias": torch.zeros(10)}, d / "wrong_arch.pt")
    (d / "too_big.pt").write_bytes(os.urandom((UPLOAD_LIMIT_MB + 1) * 1024 * 1024))
    (d / "no_images" / "cat").mkdir(parents=True)
    (d / "no_images" / "cat" / "readme.txt").write_text("not an image")
    (d / "mnist_missing" / "MNIST" / "raw").mkdir(parents=True)
    return d, marker


def _upload_for_a(page, path: Path) -> None:
    uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"]').first
    uploader.locator('input[type="file"]').set_input_files(str(path))
    wait_idle(page)


def _back_to_demo(page) -> None:
    choose(page, "Source", "Epoch folder")
    assert metrics(page).get("Accuracy A"), "the app should work again in the same session"


@pytest.mark.parametrize("name,expected", [
    ("truncated.pt", "cannot be read"),
    ("random.pt", "cannot be read"),
    ("untrusted.pt", "full pickle"),
    ("wrong_arch.pt", "Could not detect the architecture"),
])
def test_bad_checkpoint_upload_shows_one_error(server, page, shot, bad_files, name, expected):
    folder, marker = bad_files
    page.goto(server.url)
    wait_idle(page)
    choose(page, "Source", "Upload")
    _upload_for_a(page, folder / name)
    shot(page, f"04_bad_upload_{name.replace('.', '_')}")
    shown = errors(page)
    assert len(shown) == 1 and expected in shown[0], shown
    assert not exceptions(page)
    assert not marker.exists(), "the untrusted pickle's payload must not run"
    _back_to_demo(page)


def test_upload_over_the_limit_is_refused_with_the_limit(server, page, shot, bad_files):
    folder, _ = bad_files
    page.goto(server.url)
    wait_idle(page)
    choose(page, "Source", "Upload")
    _upload_for_a(page, folder / "too_big.pt")
    shot(page, "05_upload_too_big")
    text = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"]').first.inner_text()
    assert f"{UPLOAD_LIMIT_MB}" in text and "MB" in text and ("smaller" in text or "limit" in text.lower()), text
    assert not exceptions(page)
    _back_to_demo(page)


@pytest.mark.parametrize("kind,sub,expected", [
    ("ImageFolder", "no_images", "no readable images"),
    ("MNIST", "mnist_missing", "t10k-images-idx3-ubyte"),
])
def test_bad_dataset_folder_shows_one_error(server, page, shot, bad_files, kind, sub, expected):
    folder, _ = bad_files
    page.goto(server.url)
    wait_idle(page)
    choose(page, "Dataset", kind)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').filter(
        has=page.get_by_text("Folder" if kind == "ImageFolder" else "Dataset root", exact=True)).first
    box.locator("input").fill(str(folder / sub))
    box.locator("input").press("Enter")
    wait_idle(page)
    shot(page, f"06_bad_data_{sub}")
    shown = errors(page)
    assert len(shown) == 1 and expected in shown[0], shown
    assert not exceptions(page)
    choose(page, "Dataset", "Digits (embedded demo)")
    assert metrics(page).get("Accuracy A")


def test_missing_checkpoint_path(server, page, shot):
    page.goto(server.url)
    wait_idle(page)
    choose(page, "Source", "Checkpoint file")
    box = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').filter(
        has=page.get_by_text("Checkpoint path", exact=True)).first
    box.locator("input").fill("/nonexistent/model.pt")
    box.locator("input").press("Enter")
    wait_idle(page)
    shot(page, "07_missing_checkpoint")
    shown = errors(page)
    assert len(shown) == 1 and "does not exist" in shown[0]
    _back_to_demo(page)
