"""AppTest: the app starts on the demo and the Overview shows the numbers the CLI computes."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cli import main


@pytest.fixture(scope="module")
def cli_summary(demo_paths, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    assert main(["compare", "--a", str(demo_paths[1]), "--b", str(demo_paths[-1]), "--out", str(out)]) == 0
    return json.loads((out / "summary.json").read_text())


def _app():
    return AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180).run()


def test_overview_on_demo_matches_cli(cli_summary):
    at = _app()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    a, b = cli_summary["a"], cli_summary["b"]
    assert metrics["Accuracy A"] == f"{a['accuracy']:.2%}"
    assert metrics["Accuracy B"] == f"{b['accuracy']:.2%}"
    assert metrics["Fixed (A wrong, B right)"] == str(cli_summary["fixed"])
    assert metrics["Regressed (A right, B wrong)"] == str(cli_summary["regressed"])
    assert metrics["Disagree (different guesses)"] == str(cli_summary["disagree"])
    assert metrics["Both wrong"] == str(cli_summary["both_wrong"])
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "metric" in f and "Micro F1" in set(f["metric"])).set_index("metric")
    for key, label in (("accuracy", "Accuracy"), ("macro_f1", "Macro F1"), ("micro_f1", "Micro F1"),
                       ("macro_precision", "Macro precision"), ("macro_recall", "Macro recall")):
        assert table.loc[label, "A"] == pytest.approx(a[key])
        assert table.loc[label, "B"] == pytest.approx(b[key])
        assert table.loc[label, "B - A"] == pytest.approx(b[key] - a[key])
    per_class = next(f for f in frames if "F1 B" in f)
    assert per_class["Δ F1"].is_monotonic_increasing  # worst-regressed first
    per_class = per_class.set_index("class")
    assert [per_class.loc[r["class"], "F1 B"] for r in b["per_class"]] == pytest.approx([r["f1"] for r in b["per_class"]])
    assert [per_class.loc[r["class"], "support"] for r in a["per_class"]] == [r["support"] for r in a["per_class"]]


def test_choosing_another_epoch_changes_numbers_and_bad_path_is_one_error(cli_summary):
    at = _app()
    before = {m.label: m.value for m in at.metric}["Accuracy B"]
    at.selectbox(key="b_ckpt").set_value("epoch_3.pt").run()
    assert not at.exception
    after = {m.label: m.value for m in at.metric}["Accuracy B"]
    assert after != before
    at.selectbox(key="a_kind").set_value("Checkpoint file").run()
    at.text_input(key="a_path").set_value("/nonexistent/model.pt").run()
    assert not at.exception
    assert len(at.error) == 1 and "does not exist" in at.error[0].value
    at.selectbox(key="a_kind").set_value("Epoch folder").run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Accuracy B"] == after


def test_preprocessing_change_recomputes_the_overview(demo_paths):
    from core.datasets import load_digits_test
    from core.sources import CheckpointSource, PrepOverrides, evaluate

    at = _app()
    before = {m.label: m.value for m in at.metric}["Accuracy A"]
    at.text_input(key="prep_mean").set_value("0.5")
    at.text_input(key="prep_std").set_value("0.5").run()
    assert not at.exception and not at.error
    pa, _ = evaluate([CheckpointSource(str(demo_paths[1])), CheckpointSource(str(demo_paths[-1]))],
                     load_digits_test(), PrepOverrides(mean=(0.5,), std=(0.5,)))
    expected = f"{(pa.guess == pa.truth).mean():.2%}"
    assert expected != before
    assert {m.label: m.value for m in at.metric}["Accuracy A"] == expected
