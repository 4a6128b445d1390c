"""AppTest: two table versions of one W&B run chosen through the sidebar (fake cloud API)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from sklearn.metrics import accuracy_score
from streamlit.testing.v1 import AppTest

from core import wandb_api
from wandb_helpers import demo_offline_run, FakeApi

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def run_folder(demo_pair, tmp_path_factory):
    return demo_offline_run(demo_pair, tmp_path_factory.mktemp("app"))


@pytest.fixture
def fake(run_folder, monkeypatch):
    api = FakeApi("team", "versus-test")
    api.add_offline_run(run_folder)
    monkeypatch.setattr(wandb_api, "connect", lambda timeout=wandb_api.DEFAULT_TIMEOUT_S: api)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield api
    st.cache_data.clear()
    st.cache_resource.clear()


def _wandb_sides(at: AppTest) -> AppTest:
    at.selectbox(key="a_kind").set_value("W&B run")
    at.selectbox(key="b_kind").set_value("W&B run")
    return at.run()


def _accuracy(p) -> str:
    return f"{accuracy_score(p.truth, p.scores.argmax(axis=1)):.2%}"


def test_two_versions_of_one_run_through_the_sidebar(fake, demo_pair):
    at = _wandb_sides(AppTest.from_file(APP, default_timeout=180).run())
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    run_path = next(iter(fake._runs))
    assert at.text_input(key="a_wb_project").value == "team/versus-test"
    assert at.selectbox(key="a_wb_run").value == at.selectbox(key="b_wb_run").value == run_path
    assert at.selectbox(key="a_wb_version").value == "v0"
    assert at.selectbox(key="b_wb_version").value == "v1"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy A"] == _accuracy(demo_pair[0])
    assert metrics["Accuracy B"] == _accuracy(demo_pair[1])

    at.selectbox(key="b_wb_version").set_value("v0").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy B"] == _accuracy(demo_pair[0])
    assert metrics["Fixed (A wrong, B right)"] == "0"

    at.selectbox(key="b_wb_version").set_value("v1").run()
    at.switch_page("views/8_history.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert set(at.multiselect(key="history_keys").value) == {"acc", "loss"}
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert sorted(panel["title"] for panel in spec["concat"]) == ["acc", "loss"]


def test_unknown_project_is_one_message_and_the_app_keeps_running(fake):
    at = _wandb_sides(AppTest.from_file(APP, default_timeout=180).run())
    at.text_input(key="a_wb_project").set_value("team/nope").run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["W&B found nothing while listing the runs of team/nope "
                                           "(Could not find project team/nope)."]
    at.selectbox(key="a_kind").set_value("Epoch folder").run()
    assert not at.exception and not at.error
