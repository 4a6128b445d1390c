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


def test_ids_are_stored_compactly_and_keep_their_text():
    """Ids live in one numpy StringDType array (no Python object per example), whatever their
    source type, and read back as the text str() gives; alignment, sort and search work on them."""
    import sys

    n = 100_000
    ids = [f"ex{i}" for i in range(n)]
    p = _p(ids, np.zeros(n, np.int64))
    assert p.ids.dtype == np.dtypes.StringDType()
    objects = n * (8 + sys.getsizeof("ex99999"))  # what an object array of str costs
    assert p.ids.nbytes <= 16 * n < objects / 3
    assert list(_p([7, None, 2.5], [0, 1, 2]).ids) == ["7", "None", "2.5"]
    b = _p(ids[::-1], np.zeros(n, np.int64))
    cmp = Comparison.build(p, b)
    assert cmp.ids.dtype == np.dtypes.StringDType() and cmp.b.ids[5] == "ex5"
    assert cmp.ids[cmp.sort(np.arange(n), "id")[:3]].tolist() == ["ex0", "ex1", "ex10"]
    assert cmp.ids[np.flatnonzero(cmp.status_mask("all") & (cmp.ids_lower == "ex42").to_numpy())].tolist() == ["ex42"]
