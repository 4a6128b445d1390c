"""The Series page through AppTest on the demo's five epoch checkpoints: dynamics against a
loop over independently evaluated checkpoints, picking A and B, bad folders."""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.datasets import load_digits_test
from core.sources import CheckpointSource, evaluate

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
