"""W&B runs through the cloud interface, served by the fake API from a real offline run."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from core import wandb_api, wandb_source
from core.errors import VersusError
from core.history import history_chart, load_history, run_ref, table_step
from core.sources import CheckpointSource, TableSource, evaluate, load_table_source
from core.datasets import load_digits_test
from wandb_helpers import FakeApi, offline_env, offline_run, quickstart_table

TABLE_FILE = "test_predictions.table.json"


@pytest.fixture(scope="module")
def run_folder(demo_pair, demo_paths, tmp_path_factory):
    """An offline run: tables of demo epoch 1 and 5 logged at epochs 1 and 5, and the epoch-5
    checkpoint as a model artifact."""
    tmp = tmp_path_factory.mktemp("cloud")
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp / "wandb-home")
        tables = [(epoch, quickstart_table(p.ids, [p.samples.image(i) for i in range(p.n)], p.truth, p.scores))
                  for epoch, p in zip((1, 5), demo_pair)]
        return offline_run(tmp, tables, config={"lr": 0.01, "optimizer": "adam"}, model_file=demo_paths[-1])


@pytest.fixture
def api(run_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("VERSUS_CACHE_DIR", str(tmp_path / "cache"))
    fake = FakeApi()
    fake.add_offline_run(run_folder)
    return fake


def _run_path(api: FakeApi) -> str:
    return next(iter(api._runs))


def test_run_list_shows_name_id_state_config_and_accuracy(api):
    runs = wandb_source.list_runs(api, "team/versus-test")
    assert len(runs) == 1
    r = runs[0]
    assert r.path == _run_path(api) and r.state == "finished"
    assert r.accuracy == pytest.approx(1.0 - 0.5 / 5)  # the last logged acc
    assert dict(r.config) == {"lr": 0.01, "optimizer": "adam"}
    assert r.id in r.label() and "acc 0.9000" in r.label()


def test_table_versions_with_their_steps(api):
    versions = wandb_source.table_versions(api, _run_path(api))
    assert [(t.key, t.version, t.step) for t in versions] == [("test_predictions", "v0", 1),
                                                              ("test_predictions", "v1", 6)]
    assert versions[1].label() == "v1 · step 6"


def test_two_versions_of_one_run_load_with_lazy_images(api, demo_pair, tmp_path):
    path = _run_path(api)
    a = wandb_source.load_run_table(api, path, "test_predictions", "v0")
    b = wandb_source.load_run_table(api, path, "test_predictions", "v1")
    for t, p in ((a, demo_pair[0]), (b, demo_pair[1])):
        assert list(t.ids) == list(p.ids)
        np.testing.assert_array_equal(t.scores, p.scores)
    # Only the table JSON was fetched: no whole-artifact download, no images yet.
    assert ("artifact.download", f"run-{path.split('/')[-1]}-test_predictions:v0") not in api.calls
    assert [c for c in api.calls if c[0] == "entry.download"] == [("entry.download", TABLE_FILE)] * 2
    np.testing.assert_array_equal(a.samples.image(5), demo_pair[0].samples.image(5))
    np.testing.assert_array_equal(a.samples.image(5), demo_pair[0].samples.image(5))
    fetched = [c for c in api.calls if c[0] == "entry.download" and c[1] != TABLE_FILE]
    assert len(fetched) == 1 and fetched[0][1].startswith("media/images/")
    folder = tmp_path / "cache" / "wandb" / "artifacts" / a.meta["artifact_digest"]
    assert (folder / TABLE_FILE).is_file() and (folder / fetched[0][1]).is_file()


def test_latest_version_through_a_source_spec(api, demo_pair, monkeypatch):
    monkeypatch.setattr(wandb_api, "connect", lambda timeout=wandb_api.DEFAULT_TIMEOUT_S: api)
    p = load_table_source(TableSource("wandb", _run_path(api)))
    assert p.meta["table_version"] == "v1"
    np.testing.assert_array_equal(p.scores, demo_pair[1].scores)


def test_full_history_and_keys(api):
    path = _run_path(api)
    assert {"loss", "acc", "epoch"} <= set(wandb_source.history_keys(api, path))
    h = wandb_source.run_history(api, path, ["loss", "acc"])
    loss = h[h["key"] == "loss"]
    assert loss["value"].tolist() == pytest.approx([1.0 / e for e in range(1, 6)])
    assert loss["step"].tolist() == [0, 2, 3, 4, 5]


def test_model_artifact_becomes_a_checkpoint_source(api, demo_pair):
    path = _run_path(api)
    names = wandb_source.model_artifacts(api, path)
    assert names == ["team/versus-test/model:v0"]
    ckpt = wandb_source.download_model(api, names[0])
    assert ckpt.name == "epoch_5.pt"
    (p,) = evaluate([CheckpointSource(str(ckpt))], load_digits_test())
    np.testing.assert_allclose(p.scores, demo_pair[1].scores, atol=1e-6)


def test_unknown_project_and_run_are_one_sentence(api):
    with pytest.raises(VersusError, match="W&B found nothing while listing the runs of team/nope"):
        wandb_source.list_runs(api, "team/nope")
    with pytest.raises(VersusError, match="W&B found nothing while opening run team/versus-test/zzz"):
        wandb_source.table_versions(api, "team/versus-test/zzz")
    with pytest.raises(VersusError, match="is not entity/project"):
        wandb_source.list_runs(api, "just-a-name")


def test_a_hanging_call_gives_up_at_the_deadline():
    start = time.monotonic()
    with pytest.raises(VersusError, match="did not answer within 0 s while listing runs"):
        wandb_api.call(lambda: time.sleep(5), "listing runs", timeout=0.3)
    assert time.monotonic() - start < 2


def test_not_logged_in_is_one_sentence(tmp_path, monkeypatch):
    offline_env(monkeypatch, tmp_path / "wb")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing may leave the machine
    start = time.monotonic()
    with pytest.raises(VersusError, match="Not logged in to W&B: set WANDB_API_KEY or run `wandb login`"):
        wandb_api.connect(timeout=10)
    assert time.monotonic() - start < 11


def test_the_api_key_never_shows_in_a_message(monkeypatch):
    secret = "k" * 40
    monkeypatch.setenv("WANDB_API_KEY", secret)

    def leak():
        raise RuntimeError(f"request to https://api.invalid?key={secret} failed")

    with pytest.raises(VersusError) as info:
        wandb_api.call(leak, "listing runs")
    assert secret not in str(info.value) and "***" in str(info.value)


def test_history_chart_marks_the_compared_steps(api):
    path = _run_path(api)
    refs = [run_ref({"wandb_run": path, "table_key": "test_predictions", "table_version": v}) for v in ("v0", "v1")]
    assert [table_step(r, lambda: api) for r in refs] == [1, 6]
    frame = load_history(refs[0], ["loss", "acc"], lambda: api).assign(run=refs[0].label())
    marks = pd.DataFrame({"side": ["A", "B"], "step": [1, 6]})
    spec = history_chart(frame, marks).to_dict()
    assert [p["title"] for p in spec["concat"]] == ["acc", "loss"]
    rows = [r for data in spec["datasets"].values() for r in data]
    assert sorted((r["side"], r["step"]) for r in rows if "side" in r) == [("A", 1), ("B", 6)]
    loss = sorted((r["step"], r["value"]) for r in rows if r.get("key") == "loss")
    assert loss == [(s, pytest.approx(1.0 / e)) for s, e in zip((0, 2, 3, 4, 5), range(1, 6))]
    assert run_ref({"source": "epoch_1.pt"}) is None
