"""McNemar, the paired bootstrap, summary.json's significance fields and the verdict, against
scipy, hand-computed cases and a known synthetic truth."""
import json
import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics as skm

from conftest import make_predictions
from core import metrics
from core.comparison import Comparison
from core.summary import summarize
from core.verdict import mcnemar_sentence, significance_table, verdict


def _pairs(fixed, regressed, both_right=50, both_wrong=5):
    """correct_a / correct_b with the given numbers of each kind of pair."""
    a = [False] * fixed + [True] * regressed + [True] * both_right + [False] * both_wrong
    b = [True] * fixed + [False] * regressed + [True] * both_right + [False] * both_wrong
    return np.array(a), np.array(b)


def test_mcnemar_exact_by_hand():
    # 1 fixed, 9 regressed: p = 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * (1 + 10) / 1024
    mc = metrics.mcnemar(*_pairs(1, 9))
    assert mc.exact and (mc.fixed, mc.regressed) == (1, 9)
    assert mc.p_value == pytest.approx(22 / 1024)
    assert mc.statistic == 1


@pytest.mark.parametrize("fixed,regressed", [(0, 3), (2, 2), (5, 1), (3, 12), (10, 14), (0, 24), (12, 12)])
def test_mcnemar_exact_equals_scipy_binomtest(fixed, regressed):
    mc = metrics.mcnemar(*_pairs(fixed, regressed))
    assert mc.exact
    assert mc.p_value == pytest.approx(binomtest(fixed, fixed + regressed, 0.5).pvalue)


def test_mcnemar_chi_square_by_hand_when_many_discordant():
    # 30 fixed, 10 regressed: (|30 - 10| - 1)^2 / 40 = 9.025; 1-dof chi-square tail = erfc(sqrt(x / 2))
    mc = metrics.mcnemar(*_pairs(30, 10))
    assert not mc.exact
    assert mc.statistic == pytest.approx(9.025)
    assert mc.p_value == pytest.approx(math.erfc(math.sqrt(9.025 / 2)))
    # and it lands near the exact binomial p it approximates
    assert mc.p_value == pytest.approx(binomtest(30, 40, 0.5).pvalue, rel=0.25)


def test_mcnemar_no_discordant_pairs():
    mc = metrics.mcnemar(*_pairs(0, 0))
    assert mc.p_value == 1.0 and mc.exact


def _population_draw(rng, n, c=4, acc_a=0.7, acc_b=0.8):
    """Symmetric classes, wrong guesses uniform over the other classes: per-class precision =
    recall = accuracy, so the true change in both accuracy and macro-F1 is acc_b - acc_a."""
    truth = rng.integers(0, c, n)
    wrong = lambda: (truth + rng.integers(1, c, n)) % c  # noqa: E731
    ga = np.where(rng.random(n) < acc_a, truth, wrong())
    gb = np.where(rng.random(n) < acc_b, truth, wrong())
    return truth, ga, gb


def test_bootstrap_intervals_cover_the_known_difference():
    rng = np.random.default_rng(31)
    hits = {"accuracy": 0, "macro_f1": 0}
    runs = 20
    for r in range(runs):
        truth, ga, gb = _population_draw(rng, 1500)
        boot = metrics.paired_bootstrap(truth, ga, gb, 4, resamples=400, seed=r)
        for key, d in boot.items():
            assert d.low <= d.value <= d.high
            hits[key] += d.low <= 0.1 <= d.high
    # nominal 95%: 20 runs with at most 3 misses (a broken, too narrow interval misses far more)
    assert hits["accuracy"] >= runs - 3 and hits["macro_f1"] >= runs - 3


def test_bootstrap_equals_a_plain_resampling_oracle():
    rng = np.random.default_rng(32)
    truth, ga, gb = _population_draw(rng, 800)
    boot = metrics.paired_bootstrap(truth, ga, gb, 4, resamples=3000, seed=1)["accuracy"]
    idx = np.random.default_rng(2).integers(0, 800, (3000, 800))
    deltas = (gb[idx] == truth[idx]).mean(axis=1) - (ga[idx] == truth[idx]).mean(axis=1)
    low, high = np.percentile(deltas, [2.5, 97.5])
    assert boot.value == pytest.approx(skm.accuracy_score(truth, gb) - skm.accuracy_score(truth, ga))
    assert boot.low == pytest.approx(low, abs=0.006) and boot.high == pytest.approx(high, abs=0.006)


def test_bootstrap_is_reproducible_with_its_seed():
    rng = np.random.default_rng(33)
    truth, ga, gb = _population_draw(rng, 500)
    first = metrics.paired_bootstrap(truth, ga, gb, 4, resamples=300, seed=7)
    assert metrics.paired_bootstrap(truth, ga, gb, 4, resamples=300, seed=7) == first
    assert metrics.paired_bootstrap(truth, ga, gb, 4, resamples=300, seed=8) != first


def _oracle_ece(truth, scores, bins=15):
    """ECE bin by bin: (i/bins, (i+1)/bins], the first bin also holding 0."""
    conf, right = scores.max(axis=1).astype(float), scores.argmax(axis=1) == truth
    total = 0.0
    for i in range(bins):
        inside = (conf > i / bins) & (conf <= (i + 1) / bins) | ((i == 0) & (conf == 0))
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - conf[inside].mean())
    return total / len(conf)


def test_summary_significance_fields_are_filled_and_right():
    a = make_predictions(400, 5, seed=34, skill=1.0)
    b = make_predictions(400, 5, seed=35, skill=2.5, truth=a.truth)
    s = summarize(Comparison.build(a, b), "a.pt", "b.pt")
    json.dumps(s, allow_nan=False)  # plain JSON numbers throughout
    for side, p in (("a", a), ("b", b)):
        assert s[side]["ece"] == pytest.approx(_oracle_ece(p.truth, p.scores))
        assert s[side]["brier"] == pytest.approx(
            skm.brier_score_loss(p.truth, p.scores, labels=list(range(5)), scale_by_half=False), rel=1e-6)
    acc = s["delta"]["accuracy"]
    assert acc["value"] == pytest.approx(skm.accuracy_score(b.truth, b.guess) - skm.accuracy_score(a.truth, a.guess))
    f1 = s["delta"]["macro_f1"]
    assert f1["value"] == pytest.approx(skm.f1_score(b.truth, b.guess, average="macro")
                                        - skm.f1_score(a.truth, a.guess, average="macro"))
    for d in (acc, f1):
        assert d["ci95"][0] <= d["value"] <= d["ci95"][1] and d["ci95"][0] < d["ci95"][1]
    fixed = int(np.sum(~a.correct & b.correct))
    regressed = int(np.sum(a.correct & ~b.correct))
    assert (s["fixed"], s["regressed"]) == (fixed, regressed)
    stat = (abs(fixed - regressed) - 1) ** 2 / (fixed + regressed)
    assert s["mcnemar"]["statistic"] == pytest.approx(stat)
    assert s["mcnemar"]["p_value"] == pytest.approx(math.erfc(math.sqrt(stat / 2)))


def _summary(delta, low, high, p, fixed, regressed, n=1000, acc_a=0.8, exact=False):
    return {"n": n, "a": {"accuracy": acc_a, "macro_f1": 0.7}, "b": {"accuracy": acc_a + delta, "macro_f1": 0.75},
            "delta": {"accuracy": {"value": delta, "ci95": [low, high]},
                      "macro_f1": {"value": 0.05, "ci95": [0.01, 0.09]}},
            "fixed": fixed, "regressed": regressed,
            "mcnemar": {"statistic": 3.0, "p_value": p, "midp_p_value": p, "exact": exact}}


def test_verdict_b_better_reads_like_the_issue():
    v = verdict(_summary(0.119, 0.090, 0.148, 1e-9, 67, 2))
    assert v.winner == "B"
    assert v.text == ("B is more accurate: +11.9 points (95% CI +9.0 to +14.8), McNemar mid-p < 0.001; "
                      "it fixes 67 errors and introduces 2.")


def test_verdict_a_better():
    v = verdict(_summary(-0.031, -0.049, -0.012, 0.0023, 5, 36))
    assert v.winner == "A"
    assert v.text == ("A is more accurate: B loses 3.1 points (95% CI -4.9 to -1.2), McNemar mid-p = 0.0023; "
                      "B fixes 5 errors and introduces 36.")


@pytest.mark.parametrize("p,low", [(0.52, -0.008), (0.03, -0.001), (0.2, 0.001)])
def test_verdict_no_significant_difference(p, low):
    v = verdict(_summary(0.004, low, 0.016, p, 10, 6))
    assert v.winner is None
    assert v.text.startswith("No significant difference in accuracy: B - A = +0.4 points (95% CI ")
    assert v.text.endswith(f"McNemar mid-p = {p:.2g}; B fixes 10 errors and introduces 6.")


def test_verdict_identical_predictions():
    v = verdict(_summary(0.0, 0.0, 0.0, 1.0, 0, 0, n=200, acc_a=0.9))
    assert v.winner is None and v.text == ("No difference in accuracy: A and B are right on exactly the same "
                                           "180 of 200 examples.")


def test_verdict_wording_on_one_error():
    assert verdict(_summary(0.05, 0.02, 0.08, 1e-4, 1, 0)).text.endswith("it fixes 1 error and introduces 0.")


def test_significance_table_and_mcnemar_sentence():
    s = _summary(0.119, 0.090, 0.148, 1e-9, 67, 2, exact=False)
    table = significance_table(s)
    assert table["metric"].tolist() == ["Accuracy", "Macro F1"]
    assert table.loc[0, "95% CI low"] == 0.090 and table.loc[1, "B - A"] == 0.05
    assert mcnemar_sentence(s) == ("McNemar's test on the 69 examples where exactly one model is right (B fixes 67, "
                                   "introduces 2): chi-square test with continuity correction, statistic 3.00, p < 0.001.")
    assert "exact binomial test, p = 0.021" in mcnemar_sentence(_summary(-0.008, -0.02, 0.0, 22 / 1024, 1, 9, exact=True))


def test_verdict_decides_on_the_mid_p():
    s = _summary(0.03, 0.01, 0.05, 0.2, 12, 3)  # the chi-square p says "not significant"...
    s["mcnemar"]["midp_p_value"] = 0.018  # ...the headline mid-p says it is
    v = verdict(s)
    assert v.winner == "B" and "McNemar mid-p = 0.018" in v.text
