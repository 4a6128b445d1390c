"""The Series page through AppTest on the demo's five epoch checkpoints: dynamics against a
loop over independently evaluated checkpoints, picking A and B, bad folders."""
from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.datasets import load_digits_test
from core.sources import CheckpointSource, evaluate
from tests.wandb_helpers import wandb_env  # noqa: F401 (fixture)

SERIES = "views/9_series.py"


@pytest.fixture(scope="module")
def demo_correct(demo_paths) -> np.ndarray:
    """(5, n) right/wrong of each demo checkpoint, each evaluated on its own."""
    data = load_digits_test()
    return np.array([evaluate([CheckpointSource(str(p))], data)[0].correct for p in demo_paths])


def _series_page() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    at.switch_page(SERIES).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_demo_series_dynamics(demo_correct):
    at = _series_page()
    shown = _metrics(at)
    c = demo_correct
    assert shown["Forgetting events"] == f"{int((c[:-1] & ~c[1:]).sum()):,}"
    assert shown["Never right"] == f"{int((~c.any(axis=0)).sum()):,}"
    assert shown["Always right"] == f"{int(c.all(axis=0).sum()):,}"
    assert shown["Not learned by the end"] == f"{int((~c[-1]).sum()):,}"
    assert not at.error
    at.selectbox(key="series_filter").set_value("never_learned").run()
    assert any(m.value.startswith(f"**{int((~c.any(axis=0)).sum()):,} examples**") for m in at.markdown)


def test_picking_two_checkpoints_sets_a_and_b_everywhere(demo_correct):
    at = _series_page()
    at.selectbox(key="series_a").set_value(1).run()
    at.selectbox(key="series_b").set_value(3).run()
    at.button(key="series_set").click().run()
    assert not at.exception, at.exception
    assert at.session_state["a_ckpt"] == "epoch_2.pt" and at.session_state["b_ckpt"] == "epoch_4.pt"
    assert any("A is now checkpoint 1" in s.value for s in at.success)
    at.switch_page("views/1_overview.py").run()
    shown = _metrics(at)
    assert shown["Accuracy A"] == f"{demo_correct[1].mean():.2%}"
    assert shown["Accuracy B"] == f"{demo_correct[3].mean():.2%}"


def test_bad_folder_is_one_error(tmp_path):
    at = _series_page()
    (tmp_path / "empty").mkdir()
    at.text_input(key="series_source").set_value(str(tmp_path / "empty")).run()
    assert not at.exception
    assert len(at.error) == 1 and "holds no checkpoints" in at.error[0].value


def test_skip_bad_keeps_the_rest_and_says_so(tmp_path, demo_paths):
    import shutil

    folder = tmp_path / "ck"
    folder.mkdir()
    for p in demo_paths:
        shutil.copy(p, folder / p.name)
    (folder / "epoch_3.pt").write_bytes(b"broken")
    at = _series_page()
    at.text_input(key="series_source").set_value(str(folder)).run()
    assert len(at.error) == 1 and "epoch_3.pt" in at.error[0].value
    at.checkbox(key="series_skip_bad").check().run()
    assert not at.error and not at.exception
    assert any("epoch_3.pt" in w.value for w in at.warning)
    assert any(m.value.startswith("### 4 checkpoints") for m in at.markdown)


def test_examples_and_errors_filter_on_dynamics(demo_correct):
    at = _series_page()
    at.switch_page("views/2_examples.py").run()
    at.selectbox(key="ex_status").set_value("all")
    at.selectbox(key="ex_dynamics").set_value("never_learned").run()
    assert not at.exception, at.exception
    never = int((~demo_correct.any(axis=0)).sum())
    assert any(m.value.startswith(f"### {never:,} of") for m in at.markdown)
    table = next(d.value for d in at.dataframe if "path" in d.value.columns)  # each example's path, drawn
    assert len(table) and set(table["path"]) == {"✗" * len(demo_correct)}  # never learned: wrong throughout
    at.switch_page("views/3_errors.py").run()
    at.selectbox(key="er_dynamics").set_value("forgotten").run()
    forgotten = (demo_correct[:-1] & ~demo_correct[1:]).any(axis=0)
    a_err = int((forgotten & ~demo_correct[1]).sum())  # the demo opens on epoch 2 (A) vs the last (B)
    b_err = int((forgotten & ~demo_correct[-1]).sum())
    assert any(m.value == f"## {a_err:,} errors  vs  {b_err:,} errors" for m in at.markdown)
    grids = " ".join(m.value for m in at.markdown if "vs-cell" in m.value)
    shown = re.findall(r"· ([✓✗]{%d})</div>" % len(demo_correct), grids)  # captions end with the path
    assert shown and all(("✓✗" in path) for path in shown)  # forgotten: right, then wrong, at least once


def test_history_page_works_for_checkpoints(demo_correct):
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    at.switch_page("views/8_history.py").run()
    assert not at.exception and not at.error
    assert any("Every checkpoint of" in c.value for c in at.caption)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "strokeDash" in charts[0].proto.spec  # the rules marking A and B


def test_two_clicked_points_are_read_in_order():
    from ui.series import picked_points

    assert picked_points({"selection": {"pick": [{"t": 3}, {"t": 1}]}}) == [1, 3]
    assert picked_points({"selection": {}}) == [] and picked_points(None) == []


def test_offline_run_series_with_history_and_picking(wandb_env, tmp_path):
    from tests.wandb_helpers import skill_series_run

    folder, truth, scores = skill_series_run(tmp_path, 1, 40, 3, (0.2, 1.0, 4.0))
    at = _series_page()
    at.text_input(key="series_source").set_value(f"{folder}:test_predictions").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert any(h.value == "Logged history" for h in at.subheader)
    assert any(m.value.startswith("### 3 checkpoints · 40 examples") for m in at.markdown)
    at.selectbox(key="series_a").set_value(0).run()
    at.selectbox(key="series_b").set_value(2).run()
    at.button(key="series_set").click().run()
    assert at.session_state["a_wb_version"] == "v0" and at.session_state["b_wb_version"] == "v2"
    at.switch_page("views/1_overview.py").run()
    assert not at.exception, at.exception
    shown = _metrics(at)
    assert shown["Accuracy A"] == f"{(scores[0].argmax(1) == truth).mean():.2%}"
    assert shown["Accuracy B"] == f"{(scores[2].argmax(1) == truth).mean():.2%}"
