"""The side-by-side views' chart builders, asserted on their Vega-Lite specs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.charts import COLOR_A, COLOR_B, score_histogram, truth_distribution

NAMES = ["cat", "dog", "fox", "owl"]
SA = np.array([0.1, 0.6, 0.2, 0.1])
SB = np.array([0.7, 0.1, 0.1, 0.1])


def _data(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][layer["data"]["name"]]


def test_mirrored_histogram_has_a_up_b_down_and_the_truth_shaded():
    spec = score_histogram(SA, SB, 0, NAMES, "ep1", "ep5", mode="mirrored").to_dict()
    band, bars = spec["layer"]
    assert band["mark"]["type"] == "bar" and bars["mark"]["type"] == "bar"
    band_rows = _data(spec, band)
    assert band_rows == [{"class": "cat", "low": -1, "high": 1}]
    rows = _data(spec, bars)
    assert len(rows) == 2 * len(NAMES)
    heights = {(r["model"], r["class"]): r["height"] for r in rows}
    assert heights[("ep1", "dog")] == pytest.approx(0.6) and heights[("ep5", "cat")] == pytest.approx(-0.7)
    assert [r["is_truth"] for r in rows if r["model"] == "ep5"] == [True, False, False, False]
    enc = bars["encoding"]
    assert enc["x"]["field"] == "class" and enc["x"]["sort"] == NAMES
    assert enc["y"]["field"] == "height" and enc["y"]["scale"]["domain"] == [-1, 1]
    assert enc["color"]["scale"] == {"domain": ["ep1", "ep5"], "range": [COLOR_A, COLOR_B]}


def test_stacked_histogram_has_one_upward_panel_per_model():
    spec = score_histogram(SA, SB, 2, NAMES, "A", "B", mode="stacked").to_dict()
    panels = spec["vconcat"]
    assert len(panels) == 2
    for panel, model, scores in zip(panels, ("A", "B"), (SA, SB)):
        band, bars = panel["layer"]
        assert _data(spec, band) == [{"class": "fox", "low": 0, "high": 1}]
        rows = _data(spec, bars)
        assert {r["model"] for r in rows} == {model}
        assert [r["score"] for r in rows] == pytest.approx(scores.tolist())
        assert bars["encoding"]["y"]["field"] == "score"
        assert bars["encoding"]["y"]["scale"]["domain"] == [0, 1]


def test_histogram_rejects_an_unknown_mode():
    with pytest.raises(ValueError):
        score_histogram(SA, SB, 0, NAMES, mode="sideways")


def test_truth_distribution_sends_only_nonzero_cells():
    ea = np.zeros((4, 4), dtype=int)
    ea[1, 0], ea[1, 2], ea[3, 0] = 5, 2, 1  # A: guessed dog 7 times (5 cats, 2 foxes), owl once
    eb = np.zeros((4, 4), dtype=int)
    eb[2, 1] = 4
    spec = truth_distribution(ea, eb, NAMES, "ep1", "ep5", guesses=["dog", "fox", "owl", "cat"]).to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    assert len(rows) == 4
    assert {(r["model"], r["guess"], r["truth"], r["count"]) for r in rows} == {
        ("ep1", "dog", "cat", 5), ("ep1", "dog", "fox", 2), ("ep1", "owl", "cat", 1), ("ep5", "fox", "dog", 4)}
    inner = spec["spec"]
    assert inner["mark"]["type"] == "bar"
    assert inner["encoding"]["y"]["field"] == "guess" and inner["encoding"]["y"]["sort"] == ["dog", "fox", "owl", "cat"]
    assert inner["encoding"]["x"] == {"aggregate": "sum", "field": "count", "title": "errors", "type": "quantitative"}
    assert inner["encoding"]["color"]["field"] == "truth"
    assert spec["facet"]["column"]["field"] == "model"


def test_truth_distribution_size_depends_on_classes_not_examples():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 3, (10, 10))
    big = small * 100_000
    size = lambda m: len(json.dumps(truth_distribution(m, m, [str(k) for k in range(10)]).to_dict()))
    assert abs(size(big) - size(small)) < 2 * 200 * 6  # only the digits of the counts grow
