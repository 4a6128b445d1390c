"""The Evaluation's numbers against independent oracles: scikit-learn for the metrics,
scipy.stats.binom for McNemar's mid-p, hand computations for Holm and Benjamini-Hochberg."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, false_discovery_control
from sklearn.metrics import (average_precision_score, brier_score_loss, confusion_matrix,
                             precision_recall_fscore_support, roc_auc_score)

from conftest import make_predictions
from core import curves, metrics
from core.comparison import Comparison
from core.errors import VersusError
from core.evaluation import Evaluation, evaluation_of
from core.predictions import Predictions


@pytest.fixture(scope="module")
def cmp():
    a = make_predictions(600, 6, seed=1, skill=1.0)
    b = make_predictions(600, 6, seed=2, skill=2.0, truth=a.truth)
    return Comparison.build(a, b)


def test_bootstrap_draws_by_index_at_many_classes_cover_the_truth():
    # 300 examples, 200 classes: more distinct triples than n / 4, so indices are drawn
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 200, 300)
    guess_a = np.where(rng.random(300) < 0.5, truth, (truth + 1) % 200)
    guess_b = np.where(rng.random(300) < 0.8, truth, (truth + 2) % 200)
    d = metrics.paired_bootstrap(truth, guess_a, guess_b, 200)["accuracy"]
    assert d.value == pytest.approx(np.mean(guess_b == truth) - np.mean(guess_a == truth))
    assert d.low < d.value < d.high and 0.15 < d.value and d.high - d.low < 0.25


def test_model_numbers_match_sklearn(cmp):
    ev = evaluation_of(cmp)
    for p, m in ((cmp.a, ev.a), (cmp.b, ev.b)):
        cm = confusion_matrix(p.truth, p.guess, labels=range(6))
        assert np.array_equal(m.confusion, cm)
        prec, rec, f1, support = precision_recall_fscore_support(p.truth, p.guess, labels=range(6), zero_division=0)
        assert np.allclose(m.report.precision, prec) and np.allclose(m.report.recall, rec)
        assert m.report.macro_f1 == pytest.approx(f1.mean())
        assert m.accuracy == pytest.approx(np.mean(p.truth == p.guess))
        # errors per guessed class: column sums off the diagonal, counted by hand
        wrong = p.guess != p.truth
        assert m.errors_per_guess.tolist() == [int((p.guess[wrong] == k).sum()) for k in range(6)]
        onehot = np.eye(6)[p.truth]
        assert m.brier == pytest.approx(sum(brier_score_loss(onehot[:, k], p.scores[:, k]) for k in range(6)),
                                        rel=1e-5)


def test_evaluation_is_computed_once_per_comparison(cmp):
    assert evaluation_of(cmp) is evaluation_of(cmp)
    assert np.array_equal(cmp.errors_matrix("b"), evaluation_of(cmp).b.confusion.T * (1 - np.eye(6, dtype=int)))


def test_flip_rates_and_json_keys(cmp):
    ev = evaluation_of(cmp)
    fixed = int(np.sum((cmp.a.guess != cmp.truth) & (cmp.b.guess == cmp.truth)))
    regressed = int(np.sum((cmp.a.guess == cmp.truth) & (cmp.b.guess != cmp.truth)))
    out = ev.to_json("a.pt", "b.pt", data="digits")
    assert out["flips"] == {"negative_flip_rate": regressed / 600, "positive_flip_rate": fixed / 600}
    assert out["fixed"] == fixed and out["regressed"] == regressed and out["data"] == "digits"
    assert set(out["mcnemar"]) >= {"statistic", "p_value", "midp_p_value", "exact_p_value"}
    assert [r["class"] for r in out["per_class"]] == cmp.class_names
    assert sum(r["fixed"] for r in out["per_class"]) == fixed
    assert out["warnings"] == []


def _midp_by_definition(b: int, c: int) -> float:
    """Mid-p by its definition: 2 (P(X < m) + P(X = m) / 2), X ~ Binomial(b + c, 1/2)."""
    m, n = min(b, c), b + c
    return min(1.0, 2 * (binom.cdf(m - 1, n, 0.5) + 0.5 * binom.pmf(m, n, 0.5)))


@pytest.mark.parametrize("b,c", [(1, 7), (5, 5), (0, 12), (30, 48), (3, 0)])
def test_mcnemar_midp_against_binom(b, c):
    a_right = np.r_[np.zeros(b, bool), np.ones(c, bool), np.ones(9, bool)]
    b_right = np.r_[np.ones(b, bool), np.zeros(c, bool), np.ones(9, bool)]
    mc = metrics.mcnemar(a_right, b_right)
    assert (mc.fixed, mc.regressed) == (b, c)
    assert mc.midp_p_value == pytest.approx(_midp_by_definition(b, c), abs=1e-12)
    assert mc.exact_p_value == pytest.approx(min(1.0, 2 * binom.cdf(min(b, c), b + c, 0.5)), abs=1e-12)
    assert mc.midp_p_value <= mc.exact_p_value


def test_holm_and_bh_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # Holm: sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    assert metrics.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted p*4/rank = 0.02, 0.02, 0.04, 0.04, then the running min from the top
    assert metrics.benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert metrics.holm(np.array([0.5, 0.9])) == pytest.approx([1.0, 1.0])
    many = np.random.default_rng(0).random(200) ** 4
    assert metrics.benjamini_hochberg(many) == pytest.approx(false_discovery_control(many, method="bh"))


def test_per_class_paired_counts_and_adjustment_by_hand():
    # class 0: 6 fixed, 0 regressed; class 1: 0 fixed, 2 regressed; class 2: no flips
    truth = np.array([0] * 6 + [1] * 2 + [2] * 4)
    guess_a = np.array([1] * 6 + [1] * 2 + [2] * 4)
    guess_b = np.array([0] * 6 + [0] * 2 + [2] * 4)
    scores = lambda g: np.eye(3, dtype=np.float32)[g]
    ids = [str(i) for i in range(12)]
    ev = Evaluation.of(Comparison.build(Predictions(ids, truth, scores(guess_a), list("xyz")),
                                        Predictions(ids, truth, scores(guess_b), list("xyz"))))
    pc = ev.per_class
    assert pc.fixed.tolist() == [6, 0, 0] and pc.regressed.tolist() == [0, 2, 0]
    p0, p1 = _midp_by_definition(6, 0), _midp_by_definition(0, 2)  # 1/64 and 1/4
    assert pc.p_value == pytest.approx([p0, p1, 1.0])
    # Holm over the two classes with flips only
    assert pc.p_holm == pytest.approx([2 * p0, p1, 1.0])
    assert pc.p_bh == pytest.approx([2 * p0, p1, 1.0])


def test_zero_examples_are_refused():
    empty = Predictions([], np.zeros(0, int), np.zeros((0, 3), np.float32), list("xyz"))
    with pytest.raises(VersusError, match="no examples"):
        Evaluation.of(Comparison.build(empty, empty))


def test_areas_match_sklearn_with_ties():
    rng = np.random.default_rng(3)
    scores = np.round(rng.random((2000, 5)), 2).astype(np.float32)
    truth = rng.integers(0, 4, 2000)  # class 4 never true: undefined areas
    auc, ap = curves.areas(truth, scores)
    for k in range(4):
        assert auc[k] == pytest.approx(roc_auc_score(truth == k, scores[:, k]), abs=1e-12)
        assert ap[k] == pytest.approx(average_precision_score(truth == k, scores[:, k]), abs=1e-12)
    assert np.isnan(auc[4]) and np.isnan(ap[4])


def test_sampled_curves_at_large_n_keep_exact_areas(monkeypatch):
    rng = np.random.default_rng(4)
    score = np.round(rng.random(5000), 3)
    positive = rng.random(5000) < score * 0.5
    monkeypatch.setattr(curves, "SAMPLED_ABOVE", 1000)
    cc = curves.class_curves(positive, score, 50)
    assert cc.auc == pytest.approx(roc_auc_score(positive, score), abs=1e-12)
    assert cc.ap == pytest.approx(average_precision_score(positive, score), abs=1e-12)
    assert len(cc.roc) <= 50 and cc.roc.x[0] == 0 and cc.roc.x[-1] == 1 and cc.roc.y[-1] == 1


def test_warnings_reach_summary_and_report():
    from core.report import build_report
    from core.summary import summarize

    a = make_predictions(200, 3, seed=1)
    b = make_predictions(200, 3, seed=2, truth=a.truth)
    a.meta["warnings"] = ["Scores were logits; versus applied a softmax."]
    cmp = Comparison.build(a, b)
    summary = summarize(cmp, "a", "b")
    assert summary["warnings"] == ["A: Scores were logits; versus applied a softmax."]
    assert "<li>A: Scores were logits; versus applied a softmax.</li>" in build_report(cmp, summary)


def test_cli_refuses_two_empty_inputs_in_one_sentence(tmp_path, capsys):
    from core.cli import main

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id,truth,score_x,score_y\n")
    out = tmp_path / "out"
    assert main(["compare", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err == "error: a.csv has no rows; there is nothing to compare."
    assert not out.exists()


def test_curves_at_many_classes_hold_points_for_the_changed_most_and_draw_others_on_demand():
    from core import evaluation

    a = make_predictions(400, 30, seed=1, skill=1.0)
    b = make_predictions(400, 30, seed=2, skill=2.0, truth=a.truth)
    # B loses its signal for the first 12 classes: large drops, which count as much as gains
    b.scores[:, :12] = np.random.default_rng(3).permutation(b.scores[:, :12])
    ev = Evaluation.of(Comparison.build(a, b))
    held = ev.curve_classes
    auc = {s: np.array([roc_auc_score(a.truth == k, p.scores[:, k]) for k in range(30)]) for s, p in (("A", a), ("B", b))}
    expected = sorted(np.argsort(-np.abs(auc["B"] - auc["A"]), kind="stable")[:evaluation.MAX_DRAWN_CURVES].tolist())
    assert held == expected
    assert [c.auc for c in ev.curves["B"].classes] == pytest.approx(auc["B"].tolist())
    other = next(k for k in range(30) if k not in held)
    drawn = ev.class_curves("b", other)
    assert len(drawn.roc) > 2 and drawn.auc == pytest.approx(auc["B"][other])


def test_predictions_parquet_written_in_blocks_holds_every_row(tmp_path):
    import pandas as pd

    from core.export import write_predictions

    a = make_predictions(20, 3, seed=1)
    b = make_predictions(20, 3, seed=2, truth=a.truth)
    cmp = Comparison.build(a, b)
    write_predictions(cmp, tmp_path / "p.parquet", block=7)
    got = pd.read_parquet(tmp_path / "p.parquet")
    assert got["id"].tolist() == list(a.ids) and got["guess_b"].tolist() == b.guess.tolist()
    right = {(True, True): "both_right", (False, True): "fixed", (True, False): "regressed"}
    expected = [right.get((bool(ra), bool(rb)), "both_wrong_same" if ga == gb else "both_wrong_different")
                for ra, rb, ga, gb in zip(a.correct, b.correct, a.guess, b.guess)]
    assert got["status"].tolist() == expected
    assert np.allclose(got[[f"score_b_{c}" for c in b.class_names]].to_numpy(), b.scores)
