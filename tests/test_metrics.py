"""Metrics against scikit-learn on random and edge cases."""
import numpy as np
import pytest
from sklearn import metrics as skm

from core import metrics


def _cases():
    rng = np.random.default_rng(0)
    yield "random", rng.integers(0, 7, 400), rng.integers(0, 7, 400), 7
    truth = rng.integers(0, 5, 300)
    guess = np.where(rng.random(300) < 0.7, truth, rng.integers(0, 5, 300))
    guess[guess == 3] = 2  # class 3 never predicted
    yield "never_predicted", truth, guess, 5
    truth = rng.integers(0, 4, 200)
    truth[truth == 1] = 0  # class 1 absent from truth, but predicted
    guess = rng.integers(0, 4, 200)
    yield "absent_from_truth", truth, guess, 4
    yield "perfect", np.arange(6) % 3, np.arange(6) % 3, 3


@pytest.mark.parametrize("name,truth,guess,c", list(_cases()), ids=[c[0] for c in _cases()])
def test_class_report_equals_sklearn(name, truth, guess, c):
    labels = list(range(c))
    cm = metrics.confusion(truth, guess, c)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(truth, guess, labels=labels))
    rep = metrics.class_report(cm)
    p, r, f, s = skm.precision_recall_fscore_support(truth, guess, labels=labels, zero_division=0)
    np.testing.assert_allclose(rep.precision, p)
    np.testing.assert_allclose(rep.recall, r)
    np.testing.assert_allclose(rep.f1, f)
    np.testing.assert_array_equal(rep.support, s)
    for avg in ("macro", "micro"):
        kw = dict(labels=labels, average=avg, zero_division=0)
        assert getattr(rep, f"{avg}_precision") == pytest.approx(skm.precision_score(truth, guess, **kw))
        assert getattr(rep, f"{avg}_recall") == pytest.approx(skm.recall_score(truth, guess, **kw))
        assert getattr(rep, f"{avg}_f1") == pytest.approx(skm.f1_score(truth, guess, **kw))
    assert metrics.accuracy(truth, guess) == pytest.approx(skm.accuracy_score(truth, guess))


def test_brier_matches_sklearn_and_hand():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 6))
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = rng.integers(0, 6, 200)
    expected = skm.brier_score_loss(truth, scores, labels=list(range(6)), scale_by_half=False)
    assert metrics.brier_score(truth, scores) == pytest.approx(expected)
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    # by hand: (0.3^2 + 0.2^2 + 0.1^2) and (0.1^2 + 0.9^2 + 0.8^2), averaged
    assert metrics.brier_score(np.array([0, 1]), scores) == pytest.approx((0.14 + 1.46) / 2)


def test_ece_by_hand():
    # conf 0.9 right, 0.9 wrong, 0.6 right, 0.4 right (argmax class 0 for all)
    scores = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.35]])
    scores[3] = [0.45, 0.55]  # this one guesses class 1
    truth = np.array([0, 1, 0, 1])
    # 10 bins: bin (0.8,0.9] holds two (acc 0.5, conf 0.9): |0.5-0.9|*2
    # bin (0.5,0.6] holds 0.6 (right) and 0.55 (right): |1 - 0.575|*2
    expected = (0.4 * 2 + 0.425 * 2) / 4
    assert metrics.expected_calibration_error(truth, scores, bins=10) == pytest.approx(expected)
