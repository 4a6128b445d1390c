"""The embedding map: PCA against numpy's SVD, the per-status density bins against
numpy.histogram2d, and a payload that stays bounded at 1M points."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.comparison import Comparison
from core.embedding import (BINS, POINT_LIMIT, STATUS_ORDER, bin_edges, density_frame, embed, in_view,
                            map_status, point_frame, rows_in_cell, spaces)
from core.embedding_chart import density_chart, points_chart
from tests.conftest import make_predictions


def _cmp_with_features(n=400, d=12, seed=0):
    rng = np.random.default_rng(seed)
    a = make_predictions(n, 4, seed=seed, skill=1.0)
    b = make_predictions(n, 4, seed=seed + 1, skill=2.0, truth=a.truth)
    a.features = rng.normal(size=(n, d)).astype(np.float32) * np.linspace(5, 0.1, d)
    return Comparison.build(a, b)


def test_pca_matches_svd():
    cmp = _cmp_with_features()
    e = embed(cmp, "a")
    x = cmp.a.features.astype(np.float64)
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    expected = xc @ vt[:2].T
    for k in range(2):  # components are defined up to sign
        assert np.allclose(np.abs(e.xy[:, k]), np.abs(expected[:, k]), atol=1e-3)
    assert e.explained == pytest.approx((s[:2] ** 2).sum() / (s ** 2).sum(), rel=1e-4)
    assert set(spaces(cmp)) == {"a", "scores"}  # B kept no features
    assert embed(cmp, "scores").xy.shape == (cmp.n, 2)


def test_status_and_cells():
    cmp = _cmp_with_features()
    status = map_status(cmp)
    assert (status == "fixed").sum() == cmp.counts()["fixed"]
    assert (status == "both wrong").sum() == cmp.counts()["both_wrong"]
    xy = embed(cmp, "a").xy
    rows = np.arange(cmp.n)
    bins = density_frame(xy, status, rows, bins=10)
    assert bins["count"].sum() == cmp.n
    cell = bins.iloc[int(bins["count"].argmax())]
    inside = rows_in_cell(xy, rows, (cell.x, cell.x2, cell.y, cell.y2))
    assert len(inside) == cell["count"]


def test_payload_bounded_at_one_million_points():
    rng = np.random.default_rng(3)
    n = 1_000_000
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    status = np.array(STATUS_ORDER, dtype=object)[rng.integers(0, 4, n)]
    rows = np.arange(n)
    bins = density_frame(xy, status, rows)
    assert len(bins) <= BINS * BINS
    assert bins["count"].sum() == n
    ex, ey = bin_edges(xy, rows)
    hist, _, _ = np.histogram2d(xy[status == "regressed", 0], xy[status == "regressed", 1], bins=[ex, ey])
    got = np.zeros((BINS, BINS))
    got[bins["bx"], bins["by"]] = bins["regressed"]
    np.testing.assert_array_equal(got, hist)
    spec = density_chart(bins).to_dict()
    payload = json.dumps(spec)
    assert sum(len(v) for v in spec["datasets"].values()) <= BINS * BINS
    assert len(payload) < 2_000_000
    # points are only drawn for a zoomed window, and never more than POINT_LIMIT
    zoom = in_view(xy, (0.0, 0.05), (0.0, 0.05))
    assert 0 < len(zoom) < POINT_LIMIT
    ids = np.array([f"x{i}" for i in range(n)], dtype=object)
    pts = point_frame(xy, status, rows, ids)
    assert len(pts) == POINT_LIMIT
    spec = points_chart(pts).to_dict()
    assert sum(len(v) for v in spec["datasets"].values()) == POINT_LIMIT
