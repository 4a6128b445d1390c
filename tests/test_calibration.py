"""Reliability bins, ECE, Brier and score histograms against hand-written and library oracles."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from conftest import make_predictions
from core import calibration, eval_charts, metrics


def _ece_oracle(truth, scores, bins):
    """ECE written out example by example: bins (i/bins, (i+1)/bins], the first including 0."""
    conf = scores.max(axis=1).astype(np.float64)
    right = scores.argmax(axis=1) == truth
    total = 0.0
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = [j for j in range(len(conf)) if (lo < conf[j] <= hi) or (i == 0 and conf[j] == 0)]
        if inside:
            gap = abs(np.mean(right[inside]) - np.mean(conf[inside]))
            total += len(inside) / len(conf) * gap
    return total


@pytest.mark.parametrize("bins", [10, 15])
def test_ece_equals_oracle(bins):
    p = make_predictions(700, 5, seed=11, skill=1.5)
    expected = _ece_oracle(p.truth, p.scores, bins)
    assert metrics.expected_calibration_error(p.truth, p.scores, bins) == pytest.approx(expected, abs=1e-12)


def test_reliability_bins_equal_pandas():
    p = make_predictions(900, 4, seed=12, skill=1.0)
    rel = calibration.reliability(p.truth, p.scores, bins=10)
    df = pd.DataFrame({"conf": p.scores.max(axis=1).astype(np.float64),
                       "right": p.scores.argmax(axis=1) == p.truth})
    df["bin"] = pd.cut(df["conf"], bins=np.arange(11) / 10, labels=False, include_lowest=True)
    grouped = df.groupby("bin").agg(count=("conf", "size"), conf=("conf", "mean"), acc=("right", "mean"))
    np.testing.assert_array_equal(rel.count, grouped["count"].reindex(range(10), fill_value=0))
    seen = rel.count > 0
    np.testing.assert_allclose(rel.confidence[seen], grouped["conf"].to_numpy())
    np.testing.assert_allclose(rel.accuracy[seen], grouped["acc"].to_numpy())
    assert np.all(np.isnan(rel.confidence[~seen]))
    np.testing.assert_allclose(rel.lo, np.arange(10) / 10)


def test_perfectly_calibrated_case_by_hand():
    # four examples at confidence 0.75, three right: accuracy equals confidence, ECE 0
    scores = np.array([[0.75, 0.25]] * 4)
    truth = np.array([0, 0, 0, 1])
    assert metrics.expected_calibration_error(truth, scores) == pytest.approx(0.0)
    rel = calibration.reliability(truth, scores)
    k = int(np.flatnonzero(rel.count)[0])
    assert rel.count[k] == 4 and rel.accuracy[k] == 0.75 and rel.lo[k] < 0.75 <= rel.hi[k]


def test_brier_equals_sklearn():
    p = make_predictions(500, 7, seed=13)
    expected = skm.brier_score_loss(p.truth, p.scores, labels=list(range(7)), scale_by_half=False)
    assert metrics.brier_score(p.truth, p.scores) == pytest.approx(expected, rel=1e-6)


def test_score_histogram_equals_numpy():
    p = make_predictions(1000, 3, seed=14, skill=2.0)
    mine, rest = calibration.score_histogram(p.truth, p.scores[:, 1], 1, bins=20)
    edges = np.linspace(0, 1, 21)
    np.testing.assert_array_equal(mine, np.histogram(p.scores[p.truth == 1, 1], edges)[0])
    np.testing.assert_array_equal(rest, np.histogram(p.scores[p.truth != 1, 1], edges)[0])


def test_histogram_frame_shares_and_chart():
    p = make_predictions(600, 3, seed=15)
    frame = calibration.histogram_frame(p.truth, {"A": p.scores, "B": p.scores}, 2, "class2", bins=20)
    assert len(frame) == 2 * 2 * 20
    for _, g in frame.groupby(["model", "group"]):
        assert g["share"].sum() == pytest.approx(1.0)
    mine = frame[(frame.model == "A") & (frame.group == "truth is class2")]
    assert mine["count"].sum() == np.sum(p.truth == 2)
    spec = eval_charts.histogram_chart(frame, "t").to_dict()
    assert spec["facet"]["column"]["field"] == "model"
    assert spec["spec"]["encoding"]["y2"] == {"datum": 0}


def test_reliability_chart_overlays_both_models():
    p = make_predictions(2000, 5, seed=16, skill=0.5)
    q = make_predictions(2000, 5, seed=17, skill=3.0, truth=p.truth)
    frame = calibration.reliability_frame({"A": calibration.reliability(p.truth, p.scores),
                                           "B": calibration.reliability(q.truth, q.scores)})
    assert set(frame["model"]) == {"A", "B"} and (frame["count"] > 0).all()
    assert frame.groupby("model")["count"].sum().tolist() == [2000, 2000]
    spec = eval_charts.reliability_chart(frame).to_dict()
    assert len(spec["layer"]) == 3 and len(json.dumps(spec)) < 20_000
