"""Aligning A and B: the true labels must agree whether or not B had to be reordered."""
import numpy as np
import pytest

from core.comparison import Comparison
from core.errors import VersusError
from core.predictions import Predictions


def _p(ids, truth):
    scores = np.full((len(ids), 3), 1 / 3, np.float32)
    return Predictions(ids, truth, scores, ["a", "b", "c"])


@pytest.mark.parametrize("ids_b", [["x", "y", "z"], ["z", "x", "y"]])
def test_labels_that_differ_are_an_error_in_either_order(ids_b):
    a = _p(["x", "y", "z"], [0, 1, 2])
    truth_b = {"x": 0, "y": 2, "z": 2}
    b = _p(ids_b, [truth_b[i] for i in ids_b])
    with pytest.raises(VersusError, match="disagree on the true label of 1 examples"):
        Comparison.build(a, b)


def test_same_labels_reordered_are_aligned():
    a = _p(["x", "y", "z"], [0, 1, 2])
    b = _p(["z", "x", "y"], [2, 0, 1])
    cmp = Comparison.build(a, b)
    assert list(cmp.b.ids) == ["x", "y", "z"] and list(cmp.b.truth) == [0, 1, 2]
