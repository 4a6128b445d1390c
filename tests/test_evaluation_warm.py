"""The Evaluation is computed once however many threads ask (sessions, pages, the warm-up), and
the app warms it, curves included, in the background as soon as a comparison is built."""
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from streamlit.testing.v1 import AppTest

import core.evaluation as evaluation
from core.comparison import Comparison
from tests.conftest import make_predictions

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_threads_asking_at_once_compute_it_once(monkeypatch):
    a = make_predictions(3000, 5, seed=1)
    b = make_predictions(3000, 5, seed=2, truth=a.truth)
    cmp = Comparison.build(a, b)
    calls = []
    real = evaluation.Evaluation.of
    monkeypatch.setattr(evaluation.Evaluation, "of",
                        classmethod(lambda cls, c: calls.append(1) or time.sleep(0.2) or real(c)))
    got = []
    threads = [threading.Thread(target=lambda: got.append(evaluation.evaluation_of(cmp))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(g is got[0] for g in got)


def test_one_comparison_being_computed_does_not_hold_up_another(monkeypatch):
    """Two users' comparisons: the second is computed while the first is still in Evaluation.of."""
    pairs = [(make_predictions(500, 4, seed=s), s) for s in (5, 7)]
    first, second = (Comparison.build(a, make_predictions(500, 4, seed=s + 1, truth=a.truth)) for a, s in pairs)
    second_done = threading.Event()
    real = evaluation.Evaluation.of

    def of(cls, c):
        if c is first:  # stays inside until the other comparison has been computed (or 10 s)
            assert second_done.wait(10), "the second comparison waited for the first"
        return real(c)

    monkeypatch.setattr(evaluation.Evaluation, "of", classmethod(of))
    errors = []
    slow = threading.Thread(target=lambda: _catch(errors, lambda: evaluation.evaluation_of(first)))
    slow.start()
    time.sleep(0.2)  # the first is now inside Evaluation.of, holding its lock
    evaluation.evaluation_of(second)
    second_done.set()
    slow.join()
    assert errors == []


def _catch(errors: list, fn) -> None:
    try:
        fn()
    except AssertionError as exc:
        errors.append(exc)


def test_the_app_warms_the_curves_before_the_curves_page_is_opened(tmp_path):
    a = make_predictions(2000, 4, seed=3)
    b = make_predictions(2000, 4, seed=4, truth=a.truth)
    at = AppTest.from_file(APP, default_timeout=120)
    for side, p in (("a", a), ("b", b)):
        cols = {"id": p.ids.astype(object), "truth": p.truth} | {f"score_{k}": p.scores[:, k] for k in range(4)}
        pd.DataFrame(cols).to_parquet(tmp_path / f"{side}.parquet")
        at.session_state[f"{side}_kind"] = "Predictions file (CSV/Parquet)"
        at.session_state[f"{side}_pred_path"] = str(tmp_path / f"{side}.parquet")
        at.session_state[f"{side}_folder"] = ""
    at.run()
    assert not at.exception and not at.error
    cmp = at.session_state["versus_comparison"].comparison
    ev = evaluation.evaluation_of(cmp)
    deadline = time.time() + 60
    while "curves" not in ev.__dict__ and time.time() < deadline:
        time.sleep(0.1)
    assert "curves" in ev.__dict__  # computed by the warm-up: no page asked for it
    expected = roc_auc_score(cmp.truth == 2, cmp.b.scores[:, 2])
    assert np.isclose(ev.__dict__["curves"]["B"].classes[2].auc, expected)
