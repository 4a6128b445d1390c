"""Filters, sorts and group-by of core.comparison against a pandas oracle and hand-computed numbers."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from conftest import make_predictions
from core.comparison import (Comparison, ExampleFilter, IdMismatch, page_count, page_of)
from core.errors import VersusError
from core.predictions import Predictions

N, C = 2000, 6


@pytest.fixture(scope="module")
def pair():
    """A and B on the same examples, ids in a shuffled, non-sorted order."""
    rng = np.random.default_rng(7)
    ids = [f"img-{k:05d}-{rng.integers(0, 99):02d}" for k in rng.permutation(N)]
    a = make_predictions(N, C, seed=3, skill=1.0, ids=ids)
    b = make_predictions(N, C, seed=4, skill=2.0, ids=ids, truth=a.truth)
    return Comparison.build(a, b), a, b


@pytest.fixture(scope="module")
def oracle(pair) -> pd.DataFrame:
    """The same examples as a pandas frame, computed without core.comparison."""
    _, a, b = pair
    sa = pd.DataFrame(a.scores)
    sb = pd.DataFrame(b.scores)
    df = pd.DataFrame({"id": a.ids.astype(object), "truth": a.truth,
                       "ga": sa.idxmax(axis=1).to_numpy(), "gb": sb.idxmax(axis=1).to_numpy(),
                       "ca": sa.max(axis=1).to_numpy(), "cb": sb.max(axis=1).to_numpy()})
    df["delta"] = [b.scores[i, t] - a.scores[i, t] for i, t in enumerate(a.truth)]
    ra, rb = df.ga == df.truth, df.gb == df.truth
    df["status"] = np.select([ra & rb, ~ra & rb, ra & ~rb], ["both_right", "fixed", "regressed"], "both_wrong")
    return df


STATUS_QUERIES = {
    "all": lambda d: d.index == d.index,
    "disagree": lambda d: d.ga != d.gb,
    "fixed": lambda d: d.status == "fixed",
    "regressed": lambda d: d.status == "regressed",
    "both_wrong": lambda d: d.status == "both_wrong",
    "both_right": lambda d: d.status == "both_right",
}


@pytest.mark.parametrize("status", list(STATUS_QUERIES))
def test_status_filters_match_pandas(pair, oracle, status):
    cmp = pair[0]
    expected = np.flatnonzero(STATUS_QUERIES[status](oracle))
    assert np.array_equal(cmp.select(ExampleFilter(status=status)), expected)


def test_status_filters_partition_the_examples(pair):
    cmp = pair[0]
    sizes = [len(cmp.select(ExampleFilter(status=s))) for s in ("fixed", "regressed", "both_wrong", "both_right")]
    assert sum(sizes) == cmp.n and min(sizes) > 0


@pytest.mark.parametrize("flt, query", [
    (ExampleFilter(status="all", truth=(1, 4)), lambda d: d.truth.isin([1, 4])),
    (ExampleFilter(status="all", guess_a=(2,), guess_b=(2, 3)), lambda d: (d.ga == 2) & d.gb.isin([2, 3])),
    (ExampleFilter(status="disagree", conf_a=(0.3, 0.6)), lambda d: (d.ga != d.gb) & d.ca.between(0.3, 0.6)),
    (ExampleFilter(status="fixed", conf_b=(0.5, 1.0), truth=(0,)),
     lambda d: (d.status == "fixed") & (d.cb >= 0.5) & (d.truth == 0)),
    (ExampleFilter(status="all", id_text="-0012"), lambda d: d.id.str.contains("-0012", regex=False)),
    (ExampleFilter(status="all", id_text="IMG-001"), lambda d: d.id.str.contains("img-001", regex=False)),
    (ExampleFilter(status="both_wrong", guess_a=(5,), conf_a=(0.0, 0.4), conf_b=(0.2, 0.9)),
     lambda d: (d.status == "both_wrong") & (d.ga == 5) & (d.ca <= 0.4) & d.cb.between(0.2, 0.9)),
])
def test_combined_filters_match_pandas(pair, oracle, flt, query):
    expected = np.flatnonzero(query(oracle))
    got = pair[0].select(flt)
    assert len(expected) > 0
    assert np.array_equal(got, expected)


def test_a_filter_that_leaves_nothing_gives_an_empty_selection(pair):
    got = pair[0].select(ExampleFilter(status="all", id_text="no such id"))
    assert got.dtype.kind == "i" and len(got) == 0


@pytest.mark.parametrize("by, column", [("delta", "delta"), ("conf_a", "ca"), ("conf_b", "cb"), ("id", "id")])
@pytest.mark.parametrize("descending", [False, True])
def test_sorts_match_pandas(pair, oracle, by, column, descending):
    cmp = pair[0]
    rows = cmp.select(ExampleFilter(status="disagree"))
    sub = oracle.iloc[rows]
    assert sub[column].is_unique  # no ties, so the order is fully defined
    expected = sub.sort_values(column, ascending=not descending).index.to_numpy()
    assert np.array_equal(cmp.sort(rows, by, descending), expected)


def test_unknown_status_or_sort_is_a_clear_error(pair):
    cmp = pair[0]
    with pytest.raises(VersusError, match="Unknown status"):
        cmp.select(ExampleFilter(status="nope"))
    with pytest.raises(VersusError, match="Unknown sort"):
        cmp.sort(np.arange(3), "nope")


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("other", ["any", "right", "wrong"])
def test_errors_match_pandas(pair, oracle, side, other):
    cmp = pair[0]
    g, c = ("ga", "ca") if side == "a" else ("gb", "cb")
    og = "gb" if side == "a" else "ga"
    q = (oracle[g] != oracle.truth) & oracle.truth.isin([0, 2, 3]) & oracle[c].between(0.2, 0.7)
    if other != "any":
        q &= (oracle[og] == oracle.truth) == (other == "right")
    got = cmp.errors(side, truth=(0, 2, 3), conf=(0.2, 0.7), other=other)
    assert np.array_equal(got, np.flatnonzero(q))


@pytest.mark.parametrize("side", ["a", "b"])
def test_errors_matrix_matches_crosstab(pair, oracle, side):
    g = "ga" if side == "a" else "gb"
    wrong = oracle[oracle[g] != oracle.truth]
    expected = pd.crosstab(wrong[g], wrong.truth).reindex(index=range(C), columns=range(C), fill_value=0)
    assert np.array_equal(pair[0].errors_matrix(side), expected.to_numpy())


def test_errors_by_guess_matches_groupby(pair, oracle):
    table = pair[0].errors_by_guess()
    for side, g in (("a", "ga"), ("b", "gb")):
        wrong = oracle[oracle[g] != oracle.truth]
        expected = wrong.groupby(g).size().reindex(range(C), fill_value=0)
        got = table.set_index("guess")[f"errors_{side}"]
        assert [int(got[f"class{k}"]) for k in range(C)] == expected.tolist()
    totals = (table.errors_a + table.errors_b).tolist()
    assert totals == sorted(totals, reverse=True)
    assert (table.b_minus_a == table.errors_b - table.errors_a).all()


def test_table_rows_and_csv(pair, oracle):
    cmp, a, b = pair
    rows = cmp.sort(cmp.select(ExampleFilter(status="regressed")), "conf_b", descending=True)
    back = pd.read_csv(io.StringIO(cmp.table(rows).to_csv(index=False)), dtype={"id": str})
    sub = oracle.iloc[rows]
    assert back["id"].tolist() == sub["id"].tolist()
    assert back["truth"].tolist() == [f"class{t}" for t in sub.truth]
    assert back["guess_b"].tolist() == [f"class{t}" for t in sub.gb]
    assert set(back["status"]) == {"regressed"}
    assert np.allclose(back["confidence_b"], sub.cb, atol=1e-6)
    assert np.allclose(back[[f"score_a_class{k}" for k in range(C)]].to_numpy(), a.scores[rows], atol=1e-6)
    assert np.allclose(back[[f"score_b_class{k}" for k in range(C)]].to_numpy(), b.scores[rows], atol=1e-6)


# A hand-made fixture: 6 examples, 3 classes (cat, dog, fox). Guesses are the largest score.
#   id  truth  A guess  B guess   status
#   e0  cat    cat      cat       both_right
#   e1  cat    dog      cat       fixed
#   e2  dog    fox      fox       both_wrong (same)
#   e3  dog    dog      cat       regressed
#   e4  fox    cat      dog       both_wrong (different)
#   e5  fox    dog      fox       fixed
# A errors: e1 (dog), e2 (fox), e4 (cat), e5 (dog) -> 4; by guess cat 1, dog 2, fox 1
# B errors: e2 (fox), e3 (cat), e4 (dog)          -> 3; by guess cat 1, dog 1, fox 1
def _hand() -> Comparison:
    names = ["cat", "dog", "fox"]
    truth = [0, 0, 1, 1, 2, 2]
    sa = [[.8, .1, .1], [.3, .6, .1], [.2, .3, .5], [.1, .7, .2], [.5, .3, .2], [.2, .45, .35]]
    sb = [[.9, .05, .05], [.7, .2, .1], [.1, .2, .7], [.55, .4, .05], [.2, .5, .3], [.1, .1, .8]]
    ids = [f"e{k}" for k in range(6)]
    return Comparison.build(Predictions(ids, truth, sa, names), Predictions(ids, truth, sb, names))


def test_hand_computed_error_counts():
    cmp = _hand()
    assert len(cmp.errors("a")) == 4 and len(cmp.errors("b")) == 3
    assert cmp.errors("a").tolist() == [1, 2, 4, 5]
    assert cmp.errors("b", other="right").tolist() == [3]
    table = cmp.errors_by_guess().set_index("guess")
    assert table.loc["dog"].tolist() == [2, 1, -1, "A"]
    assert table.loc["cat"].tolist() == [1, 1, 0, "same"]
    assert table.loc["fox"].tolist() == [1, 1, 0, "same"]
    assert table.index.tolist() == ["dog", "cat", "fox"]  # most errors first, then class order
    assert cmp.errors_matrix("a").tolist() == [[0, 0, 1], [1, 0, 1], [0, 1, 0]]
    assert cmp.surest_error_per_guess("a").tolist() == [4, 1, 2]  # dog: e1 (.6) beats e5 (.45)
    assert cmp.select(ExampleFilter(status="fixed")).tolist() == [1, 5]
    assert cmp.select(ExampleFilter(status="both_wrong")).tolist() == [2, 4]
    assert cmp.select(ExampleFilter()).tolist() == [1, 3, 4, 5]  # default: A and B disagree
    assert np.allclose(cmp.truth_delta, [.1, .4, -.1, -.3, .1, .45])


def test_pages():
    rows = np.arange(23)
    assert page_count(23, 10) == 3 and page_count(0, 10) == 1 and page_count(20, 10) == 2
    assert page_of(rows, 3, 10).tolist() == [20, 21, 22]
    assert page_of(rows, 1, 10).tolist() == list(range(10))
    assert len(page_of(rows, 4, 10)) == 0


def test_id_mismatch_says_how_many_and_intersection_works():
    a = make_predictions(10, 3, seed=1, ids=[f"x{k}" for k in range(10)])
    b = make_predictions(9, 3, seed=2, ids=[f"x{k}" for k in range(3, 12)], truth=a.truth[3:12].tolist() + [0, 0])
    with pytest.raises(IdMismatch, match="3 ids are only in A, 2 only in B, 7 in both"):
        Comparison.build(a, b)
    cmp = Comparison.build(a, b, intersect=True)
    assert cmp.ids.tolist() == [f"x{k}" for k in range(3, 10)]
    assert len(cmp.select(ExampleFilter(status="all"))) == 7
    # what was left out is said wherever the evaluation's warnings go (stderr, summary.json, report)
    note = "Compared on the 7 ids A and B share: 3 of A's 10 examples and 2 of B's 9 were left out (intersection)."
    assert cmp.intersect_note() == note
    from core.evaluation import Evaluation
    assert Evaluation.of(cmp).warnings[0] == note
    assert Comparison.build(a, a, intersect=True).intersect_note() is None
