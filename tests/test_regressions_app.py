"""The Regressions page through AppTest on the embedded demo: the verdict, flip rates, slices,
per-class paired tests and the map agree with counts taken straight from the predictions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.metrics import holm
from core.paired import midp_many


def midp(fixed: int, regressed: int) -> float:
    return float(midp_many(np.array([fixed]), np.array([regressed]))[0])

PAGE = "views/10_regressions.py"


@pytest.fixture(scope="module")
def demo(demo_view_pair) -> pd.DataFrame:
    a, b = demo_view_pair
    frame = pd.DataFrame({"truth": a.truth, "ga": a.scores.argmax(1), "gb": b.scores.argmax(1)})
    frame["fixed"] = (frame.ga != frame.truth) & (frame.gb == frame.truth)
    frame["regressed"] = (frame.ga == frame.truth) & (frame.gb != frame.truth)
    return frame


def _open(params: dict | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    if params:
        at.query_params = dict(params)
    at.run()
    if not params:
        at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_regressions_page_on_demo(demo):
    at = _open()
    assert at.title[0].value == "Regressions"
    n, fixed, regressed = len(demo), int(demo.fixed.sum()), int(demo.regressed.sum())
    headline = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert headline.startswith("#### B gets ") and f"It fixes {fixed} of A's" in headline
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Negative flip rate"] == f"{regressed / n:.2%}"
    assert metrics["Positive flip rate"] == f"{fixed / n:.2%}"
    assert metrics["Regressed"] == str(regressed) and metrics["Fixed"] == str(fixed)

    frames = [d.value for d in at.dataframe]
    slices = next(f for f in frames if "slice" in f)
    assert 0 < len(slices) <= 20
    assert slices["regressed - fixed"].tolist() == sorted(slices["regressed - fixed"], reverse=True)
    assert (slices["regressed - fixed"] > 0).all()
    by_name = slices.set_index("slice")
    class_slices = [name for name in by_name.index if name.startswith("true class = ")]
    assert class_slices  # the demo has classes with a net regression
    for name in class_slices:
        k = int(name.rsplit("= ", 1)[1])
        assert (by_name.loc[name, "fixed"], by_name.loc[name, "regressed"]) == (
            int(demo.fixed[demo.truth == k].sum()), int(demo.regressed[demo.truth == k].sum()))

    per_class = next(f for f in frames if "p_value_holm" in f).set_index("class")
    by_class = demo.groupby("truth")[["fixed", "regressed"]].sum()
    p = np.array([midp(f, r) for f, r in zip(by_class.fixed, by_class.regressed)])
    tested = (by_class.fixed + by_class.regressed).to_numpy() > 0  # a class with no flips is not tested
    adjusted = np.ones(len(p))
    adjusted[tested] = holm(p[tested])
    for k, row in by_class.iterrows():
        got = per_class.loc[str(k)]
        assert (got["fixed"], got["regressed"]) == (row.fixed, row.regressed)
        assert got["p_value_holm"] == pytest.approx(adjusted[k])
    assert per_class["regressed - fixed"].tolist() == sorted(per_class["regressed - fixed"], reverse=True)
    assert any("drawn as points" in c.value for c in at.caption)


def test_status_filter_and_other_space(demo):
    at = _open()
    at.multiselect(key="rg_status").set_value(["regressed"]).run()
    assert not at.exception
    assert any(c.value == f"{int(demo.regressed.sum())} examples in view, drawn as points." for c in at.caption)
    options = at.selectbox(key="rg_space").options
    assert "A's penultimate features" in options   # the demo checkpoints keep their features
    at.selectbox(key="rg_space").set_value("scores").run()
    assert not at.exception and not at.error
    link = dict(at.query_params)
    assert link["page"] == "regressions" and link["rg_space"] == "scores" and link["rg_status"] == "regressed"
    again = _open(params=link)
    assert again.title[0].value == "Regressions"
    assert again.selectbox(key="rg_space").value == "scores"
    assert again.multiselect(key="rg_status").value == ["regressed"]


def test_picking_a_slice_opens_its_examples():
    at = _open()
    at.session_state["rg_slice_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**") and "examples (regressed first" in m.value for m in at.markdown)


def _prediction_files(tmp_path, n=6000):
    """Two CSV predictions files on n examples, 3 classes, a logged `camera` column; B breaks
    80 more of A's right answers in camera "east". No images, no features."""
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, n)
    camera = rng.choice(["north", "south", "east"], n)
    u = rng.uniform(size=n)
    right_a, right_b = u >= 0.05, (u < 0.05) | (u >= 0.10)
    planted = np.flatnonzero((camera == "east") & right_a & right_b)[:80]
    right_b[planted] = False
    paths = []
    for side, right in (("a", right_a), ("b", right_b)):
        guess = np.where(right, truth, (truth + 1) % 3)
        scores = np.full((n, 3), 0.2)
        scores[np.arange(n), guess] = 0.6
        frame = pd.DataFrame({"id": [f"x{i}" for i in range(n)], "truth": truth, "camera": camera})
        for k in range(3):
            frame[f"score_{k}"] = scores[:, k]
        frame.to_csv(tmp_path / f"{side}.csv", index=False)
        paths.append(str(tmp_path / f"{side}.csv"))
    return paths


def test_logged_tables_planted_camera_slice_and_density_bins(tmp_path):
    a, b = _prediction_files(tmp_path)
    at = AppTest.from_file("../app.py", default_timeout=180).run()
    for side, path in (("a", a), ("b", b)):
        at.selectbox(key=f"{side}_kind").set_value("Predictions file (CSV/Parquet)").run()
        at.text_input(key=f"{side}_pred_path").set_value(path).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="rg_space").value == "scores"   # no features were logged
    slices = next(d.value for d in at.dataframe if "slice" in d.value)
    assert slices.iloc[0]["slice"] == "camera = east" and bool(slices.iloc[0]["significant"])
    assert any(c.value == "6,000 examples in view, drawn as bins." for c in at.caption)
    at.multiselect(key="rg_status").set_value(["regressed", "fixed"]).run()
    assert any(c.value.endswith("examples in view, drawn as points.") for c in at.caption)
