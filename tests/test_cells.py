"""Ids behind every confusion cell and the flips between A and B, against a pandas oracle;
the confusion and difference heatmaps' data against scikit-learn."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from conftest import make_predictions
from core import eval_charts, metrics
from core.cells import CellIndex, drill
from core.comparison import Comparison

C = 4


@pytest.fixture(scope="module")
def cmp():
    a = make_predictions(600, C, seed=21, skill=0.8)
    b = make_predictions(600, C, seed=22, skill=1.6, truth=a.truth)
    return Comparison.build(a, b)


@pytest.fixture(scope="module")
def frame(cmp):
    return pd.DataFrame({"id": cmp.ids.astype(object), "truth": cmp.truth, "ga": cmp.a.guess, "gb": cmp.b.guess})


def _ids(cmp, rows):
    return sorted(cmp.ids[rows].astype(object).tolist())


def test_ids_behind_every_cell_equal_pandas(cmp, frame):
    index_a = CellIndex.build(cmp.truth, cmp.a.guess, C)
    oracle = frame.groupby(["truth", "ga"])["id"].apply(sorted).to_dict()
    for t in range(C):
        for g in range(C):
            assert _ids(cmp, index_a.rows(t, g)) == oracle.get((t, g), [])
            assert np.all(np.diff(index_a.rows(t, g)) > 0)  # rows ascending within a cell


def test_flips_equal_pandas(cmp, frame):
    ia, ib = CellIndex.build(cmp.truth, cmp.a.guess, C), CellIndex.build(cmp.truth, cmp.b.guess, C)
    for t in range(C):
        for g in range(C):
            d = drill(ia, ib, cmp.a.guess, cmp.b.guess, t, g)
            here = frame[frame.truth == t]
            assert _ids(cmp, d.in_b) == sorted(here[here.gb == g]["id"])
            assert _ids(cmp, d.moved_in) == sorted(here[(here.gb == g) & (here.ga != g)]["id"])
            assert _ids(cmp, d.moved_out) == sorted(here[(here.ga == g) & (here.gb != g)]["id"])


def test_diagonal_flips_are_fixed_and_regressed(cmp):
    ia, ib = CellIndex.build(cmp.truth, cmp.a.guess, C), CellIndex.build(cmp.truth, cmp.b.guess, C)
    fixed = sum(len(drill(ia, ib, cmp.a.guess, cmp.b.guess, k, k).moved_in) for k in range(C))
    regressed = sum(len(drill(ia, ib, cmp.a.guess, cmp.b.guess, k, k).moved_out) for k in range(C))
    counts = cmp.counts()
    assert (fixed, regressed) == (counts["fixed"], counts["regressed"])


def test_hand_case():
    truth = np.array([0, 0, 1, 1, 1])
    ga = np.array([0, 1, 1, 0, 0])
    gb = np.array([1, 1, 1, 1, 0])
    ia, ib = CellIndex.build(truth, ga, 2), CellIndex.build(truth, gb, 2)
    d = drill(ia, ib, ga, gb, 1, 0)  # truth 1 guessed 0: A rows 3, 4; B row 4
    assert d.in_a.tolist() == [3, 4] and d.in_b.tolist() == [4]
    assert d.moved_in.tolist() == [] and d.moved_out.tolist() == [3]


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_heatmap_data_equals_sklearn(cmp, normalize):
    names = cmp.class_names
    cm = metrics.confusion(cmp.truth, cmp.a.guess, C)
    expected = confusion_matrix(cmp.truth, cmp.a.guess, labels=range(C),
                                normalize="true" if normalize else None)
    spec = eval_charts.confusion_heatmap(cm, names, normalize, "A").to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    got = {(r["truth"], r["guess"]): r["value"] for r in rows}
    for t in range(C):
        for g in range(C):
            assert got[(names[t], names[g])] == pytest.approx(expected[t, g])
    (param,) = spec["params"]
    assert param["name"] == eval_charts.CELL_SELECTION and param["select"]["fields"] == ["truth", "guess"]
    assert param["views"] == [spec["layer"][0]["name"]]  # clicks land on the cells, not the labels
    assert spec["layer"][1]["mark"]["type"] == "text"


def test_difference_heatmap_is_b_minus_a_on_a_centred_diverging_scale(cmp):
    names = cmp.class_names
    cm_a = confusion_matrix(cmp.truth, cmp.a.guess, labels=range(C))
    cm_b = confusion_matrix(cmp.truth, cmp.b.guess, labels=range(C))
    spec = eval_charts.difference_heatmap(cm_a, cm_b, names).to_dict()
    rows = next(iter(spec["datasets"].values()))
    got = {(r["truth"], r["guess"]): r["diff"] for r in rows}
    assert all(got[(names[t], names[g])] == cm_b[t, g] - cm_a[t, g] for t in range(C) for g in range(C))
    # the color is the gain for B: more on the diagonal, fewer off it
    gain = {(r["truth"], r["guess"]): r["gain"] for r in rows}
    assert all(gain[(names[t], names[g])] == (1 if t == g else -1) * (cm_b[t, g] - cm_a[t, g])
               for t in range(C) for g in range(C))
    color = spec["layer"][0]["encoding"]["color"]
    reach = np.abs(cm_b - cm_a).max()
    assert color["field"] == "gain"
    assert color["scale"] == {"domain": [-reach, reach], "domainMid": 0, **eval_charts.DIVERGING}


def test_many_classes_drop_cell_labels():
    cm = np.eye(30, dtype=np.int64) * 5
    spec = eval_charts.confusion_heatmap(cm, [str(k) for k in range(30)]).to_dict()
    assert len(spec["layer"]) == 1 and len(next(iter(spec["datasets"].values()))) == 900
