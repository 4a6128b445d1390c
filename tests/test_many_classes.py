"""1,000 classes through summary.json, report.html and every chart builder: nothing grows with
the class count past what a screen shows, and no chart relies on Altair's row limit."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from conftest import make_predictions
from core import calibration, confusion, eval_charts
from core.comparison import Comparison
from core.evaluation import evaluation_of
from core.report import TOP_CLASSES, build_report, report_charts, report_curves
from core.summary import per_class_table, summarize

C = 1000
SCREEN_ROWS = 5000  # Altair's own limit; every chart must stay under it with the limit on


def _rows(spec: dict) -> list[int]:
    """Row count of every inline dataset of a Vega-Lite spec."""
    return [len(v) for v in spec.get("datasets", {}).values()]


@pytest.fixture(scope="module")
def big():
    a = make_predictions(3000, C, seed=1, skill=4.0)
    b = make_predictions(3000, C, seed=2, skill=4.5, truth=a.truth)
    return Comparison.build(a, b)


def _dense(stored: dict) -> np.ndarray:
    """A sparse confusion of summary.json decoded as docs/summary.md describes it."""
    cm = np.zeros(stored["shape"], np.int64)
    for t, g, n in zip(stored["truth"], stored["guess"], stored["count"]):
        cm[t, g] = n
    return cm


def test_summary_is_small_and_its_sparse_confusion_round_trips(big):
    summary = summarize(big, "a.parquet", "b.parquet")
    text = json.dumps(summary, indent=2)
    assert len(text) < 2_000_000
    for side, p in (("a", big.a), ("b", big.b)):
        stored = summary[side]["confusion"]
        assert stored["format"] == "sparse" and stored["shape"] == [C, C]
        assert np.array_equal(_dense(stored), confusion_matrix(p.truth, p.guess, labels=range(C)))
    assert len(summary["per_class"]) == C


def test_small_class_counts_keep_the_dense_confusion():
    cm = np.arange(9).reshape(3, 3)
    assert confusion.to_json(cm) == cm.tolist()


def test_report_is_bounded_and_every_chart_fits_the_screen(big):
    summary = summarize(big, "a.parquet", "b.parquet")
    page = build_report(big, summary)
    assert len(page.encode()) < 8_000_000
    assert "Most-confused pairs" in page and f"The {TOP_CLASSES} classes that regressed most" in page
    for key, chart in report_charts(evaluation_of(big), report_curves(big)).items():
        rows = _rows(chart.to_dict())  # to_dict raises MaxRowsError past Altair's limit
        assert rows and max(rows) <= SCREEN_ROWS, key


def test_per_class_table_is_worst_regressed_first_and_capped(big):
    table = per_class_table(summarize(big, "a", "b"), limit=TOP_CLASSES)
    assert len(table) == TOP_CLASSES
    net = (table["regressed"] - table["fixed"]).to_numpy()
    assert np.all(np.diff(net) <= 0)
    pc = evaluation_of(big).per_class
    assert net[0] == (pc.regressed - pc.fixed).max()


def test_most_confused_pairs_by_hand():
    cm_a = np.array([[5, 3, 0], [1, 5, 0], [0, 9, 2]])
    cm_b = np.array([[5, 0, 1], [6, 5, 0], [0, 8, 2]])
    by_count = confusion.most_confused(cm_a, cm_b, ["x", "y", "z"], k=3, by="count")
    # off-diagonal totals: (z,y) 17, (y,x) 7, (x,y) 3, (x,z) 1
    assert list(zip(by_count["truth"], by_count["guess"])) == [("z", "y"), ("y", "x"), ("x", "y")]
    assert by_count["change"].tolist() == [-1, 5, -3]
    by_change = confusion.most_confused(cm_a, cm_b, ["x", "y", "z"], k=2, by="change")
    assert list(zip(by_change["truth"], by_change["guess"])) == [("y", "x"), ("x", "y")]
    assert confusion.involved_classes(by_count) == [0, 1, 2]
    assert confusion.submatrix(cm_a, [0, 2]).tolist() == [[5, 0], [0, 2]]


def test_thin_calibration_bins_are_merged_by_hand():
    r = calibration.Reliability(lo=np.arange(5) / 5, hi=np.arange(1, 6) / 5, count=np.array([2, 0, 30, 5, 3]),
                                confidence=np.array([0.1, np.nan, 0.5, 0.7, 0.9]),
                                accuracy=np.array([0.0, np.nan, 0.6, 1.0, 1.0]))
    m = calibration.merge_thin(r, min_count=20)
    # [2] + [30] -> 32; then [5] + [3] -> 8 is thin and joins its left neighbour -> 40
    assert m.count.tolist() == [40] and m.lo.tolist() == [0.0] and m.hi.tolist() == [1.0]
    assert m.confidence[0] == pytest.approx((0.2 + 15 + 3.5 + 2.7) / 40)
    assert m.accuracy[0] == pytest.approx((18 + 5 + 3) / 40)
    m2 = calibration.merge_thin(r, min_count=5)
    assert m2.count.tolist() == [32, 8] and m2.hi.tolist() == [0.6, 1.0]
    frame = calibration.reliability_frame({"A": r}, thin=5)
    assert frame["thin"].tolist() == [True, False, False, True]


def test_difference_colors_mean_better_or_worse_for_b():
    cm_a = np.array([[5, 3], [1, 5]])
    cm_b = np.array([[7, 1], [2, 4]])
    rows = eval_charts.difference_frame(cm_a, cm_b, ["x", "y"], normalize=False)
    # diagonal up = better; off-diagonal down = better
    assert rows["effect"].tolist() == ["B better", "B better", "B worse", "B worse"]


def test_vega_bundle_is_built_once_into_the_cache(tmp_path, monkeypatch):
    from core import report

    monkeypatch.setenv("VERSUS_CACHE_DIR", str(tmp_path))
    report.vega_bundle.cache_clear()
    first = report.vega_bundle()
    (stored,) = (tmp_path / "vega").glob("bundle-*.js")
    assert stored.read_text(encoding="utf-8") == first and "vegaEmbed" in first
    stored.write_text("// from the cache", encoding="utf-8")
    report.vega_bundle.cache_clear()
    assert report.vega_bundle() == "// from the cache"
    report.vega_bundle.cache_clear()


def test_report_of_two_perfect_models_with_many_classes():
    from core.predictions import Predictions

    truth = np.arange(400) % 40
    scores = np.eye(40, dtype=np.float32)[truth]
    ids = [str(i) for i in range(400)]
    names = [f"c{k}" for k in range(40)]
    cmp = Comparison.build(Predictions(ids, truth, scores, names), Predictions(ids, truth, scores, names))
    page = build_report(cmp, summarize(cmp, "a", "b"))
    assert "No difference in accuracy" in page and "(20 most-confused classes)" in page
