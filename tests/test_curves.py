"""ROC / PR curves, AUC and average precision against scikit-learn."""
import json

import numpy as np
import pytest
from sklearn import metrics as skm

from core import curves, eval_charts
from conftest import make_predictions


def _binary(n=800, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    positive = rng.random(n) < 0.3
    score = rng.random(n) + 0.4 * positive
    if ties:
        score = np.round(score, 2)  # many tied scores, as quantized softmax outputs have
    return positive, score.astype(np.float32)


@pytest.mark.parametrize("ties", [True, False])
def test_full_curves_equal_sklearn(ties):
    positive, score = _binary(ties=ties)
    counts = curves.binary_counts(positive, score)
    roc = curves.roc_points(counts)
    fpr, tpr, thr = skm.roc_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(roc.x, fpr)
    np.testing.assert_allclose(roc.y, tpr)
    np.testing.assert_allclose(roc.threshold[1:], thr[1:])
    pr = curves.pr_points(counts)
    precision, recall, _ = skm.precision_recall_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(pr.x, recall[::-1])
    np.testing.assert_allclose(pr.y, precision[::-1])
    assert curves.area(roc) == pytest.approx(skm.roc_auc_score(positive, score), abs=1e-12)
    assert curves.average_precision(pr) == pytest.approx(skm.average_precision_score(positive, score), abs=1e-12)


def test_small_case_by_hand():
    # scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.6 (neg): ROC (0,0) (0,.5) (.5,.5) (.5,1) (1,1)
    positive = np.array([True, False, True, False])
    score = np.array([0.9, 0.8, 0.7, 0.6])
    counts = curves.binary_counts(positive, score)
    roc = curves.roc_points(counts)
    np.testing.assert_allclose(roc.x, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(roc.y, [0, 0.5, 0.5, 1, 1])
    assert curves.area(roc) == pytest.approx(0.75)
    # AP: recall steps of 0.5 at precision 1 and 2/3
    assert curves.average_precision(curves.pr_points(counts)) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_model_curves_per_class_and_macro_equal_sklearn():
    p = make_predictions(1500, 6, seed=3, skill=1.2)
    mc = curves.model_curves(p.truth, p.scores, max_points=50)
    onehot = np.eye(6, dtype=bool)[p.truth]
    for k, cc in enumerate(mc.classes):
        assert cc.auc == pytest.approx(skm.roc_auc_score(onehot[:, k], p.scores[:, k]))
        assert cc.ap == pytest.approx(skm.average_precision_score(onehot[:, k], p.scores[:, k]))
        assert len(cc.roc) <= 50 and len(cc.pr) <= 50
    assert mc.macro_auc == pytest.approx(skm.roc_auc_score(p.truth, p.scores, multi_class="ovr", average="macro"))
    assert mc.macro_ap == pytest.approx(skm.average_precision_score(onehot, p.scores, average="macro"))


def test_absent_class_is_nan_and_left_out_of_macro():
    p = make_predictions(300, 4, seed=4, truth=np.arange(300) % 3)  # class 3 never true
    mc = curves.model_curves(p.truth, p.scores)
    assert np.isnan(mc.classes[3].auc) and np.isnan(mc.classes[3].ap)
    assert len(mc.classes[3].roc) == 0 and len(mc.classes[3].pr) == 0
    onehot = np.eye(4, dtype=bool)[p.truth]
    expected = np.mean([skm.roc_auc_score(onehot[:, k], p.scores[:, k]) for k in range(3)])
    assert mc.macro_auc == pytest.approx(expected)


def test_downsample_keeps_ends_and_stays_on_the_curve():
    positive, score = _binary(n=20000, seed=5, ties=False)
    full = curves.roc_points(curves.binary_counts(positive, score))
    small = curves.downsample(full, 100)
    assert len(full) > 10000 and 2 < len(small) <= 100
    assert (small.x[0], small.y[0]) == (0.0, 0.0) and (small.x[-1], small.y[-1]) == (1.0, 1.0)
    assert np.all(np.diff(small.x) >= 0) and np.all(np.diff(small.y) >= 0)
    # every kept point is a point of the full curve
    full_points = set(zip(full.x.tolist(), full.y.tolist()))
    assert all(pt in full_points for pt in zip(small.x.tolist(), small.y.tolist()))
    # and the drawn area stays close to the exact one
    assert curves.area(small) == pytest.approx(curves.area(full), abs=0.01)


def test_curve_frame_and_chart_are_bounded():
    p = make_predictions(50_000, 10, seed=6, skill=1.0)
    q = make_predictions(50_000, 10, seed=7, skill=1.5, truth=p.truth)
    mc = {"A": curves.model_curves(p.truth, p.scores), "B": curves.model_curves(q.truth, q.scores)}
    frame = curves.curve_frame(mc, p.class_names, "roc", [2])
    assert set(frame["model"]) == {"A", "B"} and set(frame["class"]) == {"class2"}
    assert len(frame) <= 2 * curves.MAX_POINTS
    spec = eval_charts.curve_chart(frame, "roc", "ROC").to_dict()
    assert len(json.dumps(spec)) < 100_000
    line = spec["layer"][1]
    assert line["encoding"]["color"]["scale"]["domain"] == ["A", "B"]
    values = spec["datasets"][line["data"]["name"]]
    assert len(values) == len(frame)
    grid = eval_charts.curve_chart(curves.curve_frame(mc, p.class_names, "pr"), "pr", "PR", p.class_names).to_dict()
    assert grid["facet"]["field"] == "class" and grid["facet"]["sort"] == p.class_names


def test_area_table_rows():
    p = make_predictions(400, 3, seed=8)
    q = make_predictions(400, 3, seed=9, skill=3.0, truth=p.truth)
    a, b = curves.model_curves(p.truth, p.scores), curves.model_curves(q.truth, q.scores)
    table = curves.area_table(a, b, p.class_names)
    assert list(table["class"]) == p.class_names + ["macro"]
    assert table.loc[3, "AUC B"] == pytest.approx(b.macro_auc)
    np.testing.assert_allclose(table["Δ AP"], table["AP B"] - table["AP A"])
