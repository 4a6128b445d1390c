"""Shared fixtures: an isolated cache folder, the demo checkpoints, synthetic Predictions."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Every test process uses its own cache folder, never the user's.
_SESSION_CACHE = Path(os.environ.get("VERSUS_TEST_CACHE", "/tmp/versus-test-cache")) / str(os.getpid())
os.environ["VERSUS_CACHE_DIR"] = str(_SESSION_CACHE)


@pytest.fixture(scope="session")
def demo_paths() -> list[Path]:
    """The five demo epoch checkpoints (trained once per test session)."""
    from core.demo import demo_checkpoints

    return demo_checkpoints()


@pytest.fixture(scope="session")
def demo_pair(demo_paths):
    """Predictions of demo epoch 1 (A) and epoch 5 (B) on the digits test split."""
    from core.datasets import load_digits_test
    from core.sources import CheckpointSource, evaluate

    data = load_digits_test()
    return tuple(evaluate([CheckpointSource(str(demo_paths[0])), CheckpointSource(str(demo_paths[-1]))], data))


@pytest.fixture(scope="session")
def demo_view_pair(demo_paths):
    """Predictions of demo epoch 2 (A) and epoch 5 (B): the pairing the app opens on."""
    from core.datasets import load_digits_test
    from core.sources import CheckpointSource, evaluate

    data = load_digits_test()
    return tuple(evaluate([CheckpointSource(str(demo_paths[1])), CheckpointSource(str(demo_paths[-1]))], data))


def make_predictions(n: int, c: int, seed: int = 0, skill: float = 2.0, ids=None, names=None, truth=None):
    """Synthetic Predictions: softmax of noise plus `skill` on the true class."""
    from core.predictions import Predictions

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, c, n) if truth is None else np.asarray(truth)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    logits[np.arange(n), truth] += skill
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = e / e.sum(axis=1, keepdims=True)
    ids = ids if ids is not None else [f"ex{i:06d}" for i in range(n)]
    names = names if names is not None else [f"class{k}" for k in range(c)]
    return Predictions(ids, truth, scores, names)


@pytest.fixture
def synthetic_pair():
    """Two synthetic Predictions on the same 500 examples x 5 classes (B more skilled)."""
    a = make_predictions(500, 5, seed=1, skill=1.0)
    b = make_predictions(500, 5, seed=2, skill=2.5, truth=a.truth)
    return a, b


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; skipped with a message when missing, a failure in CI."""
    from tests.e2e.browser import chromium_path

    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it (apt-get install -y chromium).")
        pytest.skip("No Chromium found (apt-get install -y chromium); browser tests skipped.")
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    """One headless Chromium for the whole session, driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()
