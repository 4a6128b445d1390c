"""core.pairs and core.view_charts: the bounded aggregations of the many-class views, against
brute force over scikit-learn's confusion matrix and numbers worked by hand."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from core.confusion import involved_classes, most_confused, submatrix
from core.pairs import changed_most, errors_breakdown, recall_change, top_k_scores, worst_first
from core.eval_charts import difference_frame as change_frame
from core.view_charts import topk_score_chart

RNG = np.random.default_rng(0)
C = 40
TRUTH = RNG.integers(0, C, 3000)
GA = np.where(RNG.random(3000) < 0.6, TRUTH, RNG.integers(0, C, 3000))
GB = np.where(RNG.random(3000) < 0.7, TRUTH, RNG.integers(0, C, 3000))
NAMES = [f"c{k}" for k in range(C)]
CM_A = confusion_matrix(TRUTH, GA, labels=range(C))
CM_B = confusion_matrix(TRUTH, GB, labels=range(C))


@pytest.mark.parametrize("order", ["count", "change", "worse", "better"])
def test_most_confused_pairs_match_brute_force(order):
    cells = [(t, g, CM_A[t, g], CM_B[t, g]) for t in range(C) for g in range(C)
             if t != g and CM_A[t, g] + CM_B[t, g] > 0]
    key = {"count": lambda x: x[2] + x[3], "change": lambda x: abs(x[3] - x[2]),
           "worse": lambda x: x[3] - x[2], "better": lambda x: x[2] - x[3]}[order]
    tie = (lambda x: abs(x[3] - x[2])) if order == "count" else (lambda x: x[2] + x[3])
    cells.sort(key=lambda x: (-key(x), -tie(x), x[0], x[1]))
    pairs = most_confused(CM_A, CM_B, NAMES, 25, order)
    assert list(zip(pairs.truth_index, pairs.guess_index)) == [(t, g) for t, g, _, _ in cells[:25]]
    assert pairs.a.tolist() == [a for _, _, a, _ in cells[:25]] and (pairs.change == pairs.b - pairs.a).all()
    assert pairs.truth[0] == NAMES[cells[0][0]]
    assert len(most_confused(CM_A, CM_B, NAMES, None, order)) == len(cells)


def test_involved_classes_and_submatrix():
    pairs = most_confused(CM_A, CM_B, NAMES, 10, "count")
    classes = involved_classes(pairs, limit=6)
    assert len(classes) == 6 and set(classes) <= set(pairs.truth_index) | set(pairs.guess_index)
    assert {int(pairs.truth_index[0]), int(pairs.guess_index[0])} <= set(classes)
    sub = submatrix(CM_A, classes)
    assert sub[1, 2] == CM_A[classes[1], classes[2]] and sub.shape == (6, 6)


def test_recall_change_and_changed_most():
    change = recall_change(CM_A, CM_B)
    recall = lambda cm: np.diag(cm) / cm.sum(axis=1)  # noqa: E731
    assert np.allclose(change, recall(CM_B) - recall(CM_A))
    assert changed_most(np.array([0.1, np.nan, -0.5, 0.2])).tolist() == [2, 3, 0, 1]
    table = pd.DataFrame({"class": list("abcd"), "d": [0.1, np.nan, -0.5, 0.2]})
    assert worst_first(table, "d")["class"].tolist() == ["c", "a", "d", "b"]


def test_top_k_scores_by_hand():
    a = np.array([0.50, 0.20, 0.10, 0.08, 0.07, 0.05])
    b = np.array([0.05, 0.60, 0.25, 0.04, 0.03, 0.03])
    frame = top_k_scores(a, b, truth=4, class_names=list("uvwxyz"), k=2)
    # top-2 of A: u, v; of B: v, w; plus the truth y; ordered by the larger score
    assert frame["class"].tolist() == ["v", "u", "w", "y", "other (2 classes)"]
    assert frame["is_truth"].tolist() == [False, False, False, True, False]
    assert frame.A.iloc[-1] == pytest.approx(0.08 + 0.05) and frame.B.iloc[-1] == pytest.approx(0.04 + 0.03)
    assert frame.A.sum() == pytest.approx(1.0) and frame.B.sum() == pytest.approx(1.0)
    assert "other" not in " ".join(top_k_scores(a, b, 0, list("uvwxyz"), k=6)["class"])


def test_top_k_chart_is_bounded_by_k_not_by_classes():
    scores = RNG.dirichlet(np.ones(1000), size=2)
    frame = top_k_scores(scores[0], scores[1], 7, [f"k{i}" for i in range(1000)], k=10)
    assert len(frame) <= 2 * 10 + 2
    spec = topk_score_chart(frame).to_dict()
    assert max(len(rows) for rows in spec["datasets"].values()) <= 2 * len(frame)


def test_errors_breakdown_keeps_totals():
    errors_a = np.zeros((C, C), np.int64)
    np.add.at(errors_a, (GA[GA != TRUTH], TRUTH[GA != TRUTH]), 1)
    frame = errors_breakdown(errors_a, errors_a, NAMES, [3, 5], top_truths=3)
    for g in (3, 5):
        part = frame[(frame.model == "A") & (frame.guess == NAMES[g])]
        assert part["count"].sum() == errors_a[g].sum()
        assert len(part) <= 4 and (part["count"] > 0).all()
        assert part["count"].iloc[0] == errors_a[g].max()


def test_change_frame_says_better_and_worse():
    cm_a = np.array([[5, 3], [1, 4]])
    cm_b = np.array([[7, 1], [2, 3]])
    frame = change_frame(cm_a, cm_b, ["x", "y"], normalize=False).set_index(["truth", "guess"])
    assert frame.loc[("x", "x"), "effect"] == "B better"  # 2 more right
    assert frame.loc[("x", "y"), "effect"] == "B better"  # 2 fewer confusions
    assert frame.loc[("y", "x"), "effect"] == "B worse"   # 1 more confusion
    assert frame.loc[("y", "y"), "effect"] == "B worse"   # 1 fewer right
    assert frame.loc[("y", "x"), "diff"] == 1
