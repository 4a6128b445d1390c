"""The evaluation views in the app (AppTest on the embedded demo): Overview's significance,
Confusion's persistent toggle and cell drill-down, Curves and Calibration."""
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from streamlit.testing.v1 import AppTest

from core.summary import summarize
from core.verdict import verdict


@pytest.fixture(scope="module")
def at():
    app = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not app.exception
    return app


def _cmp(app):
    return app.session_state["versus_comparison"].comparison


def _page(app, path):
    app.switch_page(path).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def test_overview_shows_verdict_significance_and_report_button(at):
    _page(at, "views/1_overview.py")
    current = at.session_state["versus_comparison"]
    summary = summarize(current.comparison, current.label_a, current.label_b)
    assert [s.value for s in at.success] == [verdict(summary).text]
    assert any(m.value.startswith("McNemar's test on the") for m in at.markdown)
    table = next(d.value for d in at.dataframe  # the significance table (the Models header comes first)
                 if "95% CI low" in d.value.columns)
    assert table["metric"].tolist() == ["Accuracy", "Macro F1"]
    assert table.loc[0, "95% CI low"] == pytest.approx(summary["delta"]["accuracy"]["ci95"][0])
    assert [b.label for b in at.download_button] == ["Download report"]
    assert "Accuracy A" in [m.label for m in at.metric]  # the existing headline metrics stay


def test_confusion_toggle_stays_set_across_pages(at):
    _page(at, "views/5_confusion.py")
    assert at.toggle(key="confusion_toggle").value is False
    at.toggle(key="confusion_toggle").set_value(True).run()
    _page(at, "views/6_curves.py")
    _page(at, "views/5_confusion.py")
    assert at.toggle(key="confusion_toggle").value is True
    at.toggle(key="confusion_toggle").set_value(False).run()
    assert at.session_state["cf_norm"] is False


def test_confusion_cell_lists_the_examples_of_each_view(at):
    _page(at, "views/5_confusion.py")
    cmp = _cmp(at)
    names = cmp.class_names
    frame = pd.DataFrame({"id": cmp.ids.astype(object), "truth": cmp.truth, "ga": cmp.a.guess, "gb": cmp.b.guess})
    # the default cell is the most frequent confusion of A and B together
    both = sum(skm.confusion_matrix(cmp.truth, guess, labels=range(10)) for guess in (cmp.a.guess, cmp.b.guess))
    np.fill_diagonal(both, 0)
    t, g = np.unravel_index(both.argmax(), both.shape)
    assert (at.selectbox(key="cell_truth").value, at.selectbox(key="cell_guess").value) == (names[t], names[g])
    at.selectbox(key="cell_truth").set_value(names[3]).run()
    at.selectbox(key="cell_guess").set_value(names[3]).run()
    here = frame[frame.truth == 3]
    expected = {
        "In A's cell": here[here.ga == 3], "In B's cell": here[here.gb == 3],
        "Moved in": here[(here.gb == 3) & (here.ga != 3)], "Moved out": here[(here.ga == 3) & (here.gb != 3)],
    }
    radio = at.radio[0]
    for option in radio.options:
        at.radio[0].set_value(option).run()
        assert not at.exception
        want = next(v for k, v in expected.items() if option.startswith(k))
        assert f"({len(want)})" in option
        shown = at.dataframe[0].value if len(want) else pd.DataFrame({"id": []})
        assert sorted(shown["id"]) == sorted(want["id"])
    assert len(expected["Moved in"]) > 0  # the demo's B fixes some 3s
    assert len(at.get("vega_lite_chart")) == 3  # A, B and B - A


def test_curves_page_matches_sklearn_for_the_chosen_class(at):
    _page(at, "views/6_curves.py")
    cmp = _cmp(at)
    at.selectbox(key="curves_class").set_value(cmp.class_names[2]).run()
    metrics = {m.label: m.value for m in at.metric}
    positive = cmp.truth == 2
    assert float(metrics["ROC AUC A"]) == pytest.approx(skm.roc_auc_score(positive, cmp.a.scores[:, 2]), abs=1e-4)
    assert float(metrics["Average precision B"]) == pytest.approx(
        skm.average_precision_score(positive, cmp.b.scores[:, 2]), abs=1e-4)
    table = at.dataframe[0].value
    assert sorted(table["class"]) == sorted(cmp.class_names + ["macro"])
    assert table["class"].iloc[0] == "macro" and table["Δ AUC"].iloc[1:].is_monotonic_increasing
    assert len(at.get("vega_lite_chart")) == 2  # ROC and PR


def test_calibration_page_shows_ece_and_brier(at):
    _page(at, "views/7_calibration.py")
    cmp = _cmp(at)
    metrics = {m.label: m.value for m in at.metric}
    brier = skm.brier_score_loss(cmp.truth, cmp.b.scores, labels=list(range(10)), scale_by_half=False)
    assert float(metrics["Brier B"]) == pytest.approx(brier, abs=1e-4)
    assert float(metrics["ECE B"]) < float(metrics["ECE A"])  # epoch 5 is better calibrated than epoch 2
    # thin bins of A and B, worked from the scores: 1 to 19 examples in one of 15 (lo, hi] bins of top-1 confidence
    counts = [np.histogram(-p.scores.max(axis=1), bins=-np.linspace(1, 0, 16))[0] for p in (cmp.a, cmp.b)]
    thin = sum(int(((c > 0) & (c < 20)).sum()) for c in counts)
    assert thin > 0 and any(f"{thin} bin" in c.value and "fewer than 20 examples" in c.value for c in at.caption)
    at.selectbox(key="calibration_class").set_value(cmp.class_names[7]).run()
    assert not at.exception
    assert any("whose truth is 7" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 2
