"""Every view on a generated 1,000-class comparison (AppTest through app.py): no error, every
chart's data bounded by the screen (not by n or the class count), the views open where the
change is largest, and the confusion cell survives a link."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm
from streamlit.testing.v1 import AppTest

from tests.helpers import many_class_files

N, C = 1500, 1000
PAGES = ["views/1_overview.py", "views/2_examples.py", "views/3_errors.py", "views/4_by_guess.py",
         "views/5_confusion.py", "views/6_curves.py", "views/7_calibration.py"]
MAX_CHART_ROWS = 30 * 30  # the largest submatrix; any chart holding more is not bounded by the screen


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two Parquet prediction files of the same 1,500 examples over 1,000 classes (B more skilled)."""
    return many_class_files(tmp_path_factory.mktemp("many"), N, C)


def _open(paths, params: dict | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=300)
    for side, path in zip("ab", paths):
        at.session_state[f"{side}_kind"] = "Predictions file (CSV/Parquet)"
        at.session_state[f"{side}_pred_path"] = str(path)
        at.session_state[f"{side}_folder"] = ""
    if params:
        at.query_params = dict(params)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def at(files):
    return _open(files[2])


def _page(at: AppTest, path: str) -> AppTest:
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _chart_rows(at: AppTest) -> list[int]:
    """Rows of every dataset of every chart on the page (Arrow datasets and inline ones)."""
    rows = []
    for chart in at.get("vega_lite_chart"):
        rows += [pa.ipc.open_stream(d.data.data).read_all().num_rows for d in chart.proto.datasets]
        rows += [len(v) for v in json.loads(chart.proto.spec).get("datasets", {}).values()]
    return rows


@pytest.mark.parametrize("path", PAGES)
def test_every_view_renders_with_bounded_charts(at, path):
    _page(at, path)
    rows = _chart_rows(at)
    assert all(r <= MAX_CHART_ROWS for r in rows), (path, rows)
    for frame in at.dataframe:
        assert len(frame.value) <= C + 1  # at most one row per class (and the macro row), or per pair shown


def test_examples_table_shows_top_k_bars_and_one_chart(at):
    _page(at, "views/2_examples.py")
    table = at.dataframe[0].value
    assert len(table) == 10
    assert all(1 <= len(v) <= 2 * 10 + 1 for v in table["A scores"])
    assert [len(v) for v in table["A scores"]] == [len(v) for v in table["B scores"]]
    assert len(at.get("vega_lite_chart")) == 0  # no chart until rows are selected, never one per row
    at.number_input(key="ex_k").set_value(3).run()
    assert all(len(v) <= 2 * 3 + 1 for v in at.dataframe[0].value["A scores"])
    assert at.query_params["ex_k"] == "3"


def test_confusion_lists_top_pairs_and_opens_the_top_one(at, files):
    a, b, _ = files
    _page(at, "views/5_confusion.py")
    both = sum(skm.confusion_matrix(a.truth, p.scores.argmax(1), labels=range(C)) for p in (a, b))
    np.fill_diagonal(both, 0)
    pairs = at.dataframe[0].value
    assert any("most confused (A + B) pairs" in m.value for m in at.markdown)  # A and B keep their case
    assert (pairs["A"] + pairs["B"]).tolist() == sorted((pairs["A"] + pairs["B"]).tolist(), reverse=True)
    assert int(pairs["A"].iloc[0] + pairs["B"].iloc[0]) == int(both.max())
    assert any(s.value == f"Examples: truth {pairs.truth.iloc[0]}, guess {pairs.guess.iloc[0]}" for s in at.subheader)
    at.selectbox(key="cf_order").set_value("worse").run()
    worse = at.dataframe[0].value
    assert worse["B - A"].tolist() == sorted(worse["B - A"].tolist(), reverse=True)
    assert 0 < len(at.multiselect(key="cf_classes").value) <= 30


def test_curves_and_calibration_open_on_the_class_that_changed_most(at, files):
    a, b, _ = files
    _page(at, "views/6_curves.py")
    deltas = {}
    for k in np.unique(a.truth):
        pos = a.truth == k
        deltas[k] = skm.roc_auc_score(pos, b.scores[:, k]) - skm.roc_auc_score(pos, a.scores[:, k])
    top = max(deltas, key=lambda k: abs(deltas[k]))
    assert at.selectbox(key="curves_class").value == a.class_names[top]
    shown = at.dataframe[0].value
    assert shown["class"].iloc[0] == "macro"
    assert shown["Δ AUC"].iloc[1] == pytest.approx(min(deltas.values()), abs=1e-6)  # worst-regressed first

    _page(at, "views/7_calibration.py")
    labels = list(range(C))
    change = (skm.recall_score(a.truth, b.scores.argmax(1), labels=labels, average=None, zero_division=0)
              - skm.recall_score(a.truth, a.scores.argmax(1), labels=labels, average=None, zero_division=0))
    assert at.selectbox(key="calibration_class").value == a.class_names[int(np.argmax(np.abs(change)))]


def test_overview_lists_worst_regressed_class_first(at, files):
    a, b, _ = files
    _page(at, "views/1_overview.py")
    labels = list(range(C))
    f1 = [skm.f1_score(a.truth, p.scores.argmax(1), labels=labels, average=None, zero_division=0) for p in (a, b)]
    table = next(d.value for d in at.dataframe if "Δ F1" in d.value.columns)
    assert table["Δ F1"].iloc[0] == pytest.approx(float(np.min(f1[1] - f1[0])), abs=1e-9)


def test_confusion_cell_and_switch_round_trip_through_the_link(at, files):
    _page(at, "views/5_confusion.py")
    names = files[0].class_names
    at.selectbox(key="cell_truth").set_value(names[7]).run()
    at.selectbox(key="cell_guess").set_value(names[9]).run()
    at.toggle(key="confusion_toggle").set_value(True).run()
    link = dict(at.query_params)
    assert link["page"] == "confusion" and link["cell_truth"] == names[7] and link["cf_norm"] == "1"
    again = _open(files[2], link)
    assert again.title[0].value == "Confusion"
    assert again.selectbox(key="cell_truth").value == names[7]
    assert again.selectbox(key="cell_guess").value == names[9]
    assert again.toggle(key="confusion_toggle").value is True
