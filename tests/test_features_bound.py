"""Penultimate features stay under their memory budget: above it, each batch is projected onto
a fixed random basis (distances kept approximately), the same result as projecting the whole
matrix, and every surface says so through the model's warnings."""
import numpy as np
import pytest
import torch

from core.architectures import ConvNet
from core.datasets import load_digits_test
from core.inference import run_models
from core.inference.features import MIN_DIMS, projection
from core.preprocessing import Preprocessing

PREP = Preprocessing(size=(28, 28), channels=1)


@pytest.fixture(scope="module")
def whole():
    torch.manual_seed(0)
    model = ConvNet().eval()
    data = load_digits_test()
    out = run_models([model], [PREP], data, torch.device("cpu"), batch_size=64, keep_features=True)[0]
    return model, data, out


def test_within_the_budget_features_are_kept_whole(whole):
    _, data, out = whole
    assert out.features.shape == (len(data), 7 * 7 * 32)
    assert "features_projected" not in out.meta and not any("projected" in w for w in out.meta["warnings"])


def test_over_the_budget_each_batch_is_projected_like_the_whole_matrix(whole, monkeypatch):
    model, data, full = whole
    n, d = full.features.shape
    budget = n * 4 * 100  # room for 100 values per example
    monkeypatch.setenv("VERSUS_MAX_FEATURE_BYTES", str(budget))
    out = run_models([model], [PREP], data, torch.device("cpu"), batch_size=64, keep_features=True)[0]
    assert out.features.shape == (n, 100)
    expected = full.features @ projection(d, 100).numpy()  # the oracle: project everything at once
    np.testing.assert_allclose(out.features, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out.scores, full.scores)  # the scores do not change
    assert out.meta["features_projected"] == [d, 100, n, budget]
    [said] = [w for w in out.meta["warnings"] if "projected" in w]
    assert f"{d:,} values per example" in said and "to 100 values" in said and "VERSUS_MAX_FEATURE_BYTES" in said
    # distances between examples survive the projection (Johnson-Lindenstrauss), roughly
    i, j = np.arange(0, n, 7), np.arange(3, n, 7)[: len(np.arange(0, n, 7))]
    i = i[: len(j)]
    ratio = np.linalg.norm(out.features[i] - out.features[j], axis=1) / np.linalg.norm(
        full.features[i] - full.features[j], axis=1)
    assert 0.7 < np.median(ratio) < 1.3


def test_a_tiny_budget_still_keeps_a_few_values(whole, monkeypatch):
    model, data, _ = whole
    monkeypatch.setenv("VERSUS_MAX_FEATURE_BYTES", "1")
    out = run_models([model], [PREP], data, torch.device("cpu"), batch_size=64, keep_features=True)[0]
    assert out.features.shape == (len(data), MIN_DIMS)
