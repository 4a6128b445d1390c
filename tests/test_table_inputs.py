"""Odd prediction-table inputs: non-finite and huge values, identical extra columns in A and B,
a logged guess that contradicts the scores, repeated ids and columns, mixed score prefixes.
Each gives one plain sentence (or a warning) and no numpy/pandas warning."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.comparison import Comparison
from core.errors import VersusError
from core.predictions import Predictions
from core.regressions import extra_columns
from core.slices import binned, find_slices
from core.tables import ColumnMap, load_predictions_file, load_table_file


@pytest.fixture
def no_warnings():
    """Any warning (numpy's RuntimeWarning, pandas') fails the test instead of reaching stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _csv(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def _two_class_csv(path, n=4, **extra):
    scores = np.linspace(0.1, 0.9, n)
    return _csv(path, id=[f"r{i}" for i in range(n)], truth=[i % 2 for i in range(n)],
                score_0=1 - scores, score_1=scores, **extra)


# ---- 1. non-finite values in an extra column ------------------------------------------------------

def test_inf_rows_get_their_own_bin_and_finite_rows_the_quantile_bins(no_warnings):
    v = np.r_[np.arange(20.0), np.inf, np.inf, -np.inf, np.nan]
    bins = binned(v)
    # quantiles of 0..19 by hand (linear): 0, 3.8, 7.6, 11.4, 15.2, 19
    assert list(bins) == ["[0, 3.8)", "[3.8, 7.6)", "[7.6, 11.4)", "[11.4, 15.2)", "[15.2, 19]", "= inf", "= -inf"]
    assert np.flatnonzero(bins["[0, 3.8)"]).tolist() == [0, 1, 2, 3]
    assert np.flatnonzero(bins["[15.2, 19]"]).tolist() == [16, 17, 18, 19]
    assert np.flatnonzero(bins["= inf"]).tolist() == [20, 21]
    assert np.flatnonzero(bins["= -inf"]).tolist() == [22]
    assert not any(mask[23] for mask in bins.values())  # NaN: in no bin


def test_values_spanning_more_than_float64_bin_without_overflow(no_warnings):
    # linear interpolation between -1e308 and 1e308 overflows; the edges are then data values
    assert {k: m.tolist() for k, m in binned(np.r_[[-1e308] * 3, [1e308] * 3]).items()} == {
        "[-1e+308, 1e+308]": [True] * 6}
    v = np.r_[[-1e308] * 2, np.arange(6.0), [1e308] * 2]
    bins = binned(v)
    assert np.sum(list(bins.values()), axis=0).tolist() == [1] * len(v)  # every row in one bin
    assert list(bins)[0].startswith("[-1e+308, ") and list(bins)[-1].endswith(", 1e+308]")


def test_slices_over_an_extra_column_with_inf_warn_nothing(no_warnings):
    rng = np.random.default_rng(0)
    n, c = 300, 3
    truth = rng.integers(0, c, n)
    extra = pd.DataFrame({"someinf": np.where(rng.random(n) < 0.1, np.inf, rng.random(n))})
    a = Predictions([str(i) for i in range(n)], truth, rng.dirichlet(np.ones(c), n), ["x", "y", "z"], extra=extra)
    b = Predictions([str(i) for i in range(n)], truth, rng.dirichlet(np.ones(c), n), ["x", "y", "z"])
    found = [s for s in find_slices(Comparison.build(a, b), extra=extra) if s.family == "someinf"]
    inf_slice = next(s for s in found if s.name == "= inf")
    assert inf_slice.rows.tolist() == np.flatnonzero(np.isinf(extra["someinf"])).tolist()
    assert sum(s.n for s in found) == n  # nothing left out: finite bins plus the inf bin


# ---- 2. a column identical in A's and B's tables is one slice family ---------------------------------

def _pair_with_extras(extra_a, extra_b, n=200, seed=1):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    ids = [f"i{k}" for k in range(n)]
    a = Predictions(ids, truth, rng.dirichlet(np.ones(2), n), ["p", "q"], extra=extra_a)
    b = Predictions(ids, truth, rng.dirichlet(np.ones(2), n), ["p", "q"], extra=extra_b)
    return Comparison.build(a, b)


def test_identical_extra_column_in_a_and_b_is_one_family_once_in_holm():
    n = 200
    flag = np.arange(n) % 3 == 0
    both = _pair_with_extras(pd.DataFrame({"boolcol": flag, "k": np.arange(n) % 4}),
                             pd.DataFrame({"boolcol": flag, "k": (np.arange(n) % 4).astype(float),
                                           "camera": np.where(flag, "n", "s")}))
    assert list(extra_columns(both).columns) == ["boolcol", "k", "B camera"]
    only_a = _pair_with_extras(pd.DataFrame({"boolcol": flag, "k": np.arange(n) % 4,
                                             "B camera": np.where(flag, "n", "s")}), None)
    got, want = find_slices(both, extra=extra_columns(both)), find_slices(only_a, extra=extra_columns(only_a))
    assert [(s.family, s.name, s.p_value_holm) for s in got] == [(s.family, s.name, s.p_value_holm) for s in want]
    assert sum(s.family == "boolcol" for s in got) == 2  # True and False, named once


def test_extra_columns_that_differ_stay_two_families():
    cmp = _pair_with_extras(pd.DataFrame({"camera": ["n"] * 199 + ["s"]}), pd.DataFrame({"camera": ["n"] * 200}))
    assert list(extra_columns(cmp).columns) == ["camera", "B camera"]


# ---- 3. scores too large for float32 --------------------------------------------------------------

def test_huge_score_in_a_csv_is_one_sentence_naming_file_column_and_row(tmp_path, no_warnings):
    p = _csv(tmp_path / "huge.csv", id=["a", "b", "c"], truth=[0, 1, 0], score_0=[0.5, 0.5, 0.5],
             score_1=[0.5, 0.5, -1e308])
    with pytest.raises(VersusError) as exc:
        load_predictions_file(p)
    assert str(exc.value) == ("huge.csv: the score -1e+308 in column 'score_1', row 2 is too large "
                              "for float32 (at most 3.4e+38).")


def test_huge_score_in_a_table_json_names_it_and_cli_prints_one_line(tmp_path, capsys, no_warnings):
    f = tmp_path / "t.table.json"
    f.write_text(json.dumps({"columns": ["id", "truth", "score_0", "score_1"],
                             "data": [["a", 0, 1e308, 0.0], ["b", 1, 0.2, 0.8]]}))
    b = _two_class_csv(tmp_path / "b.csv")
    assert main(["compare", "--a", str(f), "--b", str(b), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == ("error: t.table.json: the score 1e+308 in column 'score_0', row 0 is too large for "
                   "float32 (at most 3.4e+38).\n")


def test_logits_near_float32_limit_softmax_without_overflow(tmp_path, no_warnings):
    p = _csv(tmp_path / "l.csv", id=["a", "b"], truth=[0, 1], score_0=[3e38, -1.0], score_1=[-3e38, 1.0])
    scores = load_predictions_file(p).scores
    # softmax by hand: row 0 is (1, 0); row 1 is (1, e^2) / (1 + e^2)
    np.testing.assert_allclose(scores, [[1, 0], [1 / (1 + np.e ** 2), np.e ** 2 / (1 + np.e ** 2)]], rtol=1e-6)


def test_positive_scores_near_float32_limit_are_divided_by_their_sum(tmp_path, no_warnings):
    p = _csv(tmp_path / "big.csv", id=["a", "b"], truth=[0, 1], score_0=[3e38, 1.0], score_1=[3e38, 3.0])
    np.testing.assert_allclose(load_predictions_file(p).scores, [[0.5, 0.5], [0.25, 0.75]], rtol=1e-6)


def test_infinite_score_names_its_column_and_row(tmp_path):
    p = _csv(tmp_path / "inf.csv", id=["a", "b"], truth=[0, 1], score_0=[0.5, np.inf], score_1=[0.5, 0.5])
    with pytest.raises(VersusError, match=r"^inf.csv has an empty or infinite score \(inf\) in column "
                                          r"'score_0', row 1\.$"):
        load_predictions_file(p)


def test_text_or_list_score_names_its_value_column_and_row(tmp_path):
    p = _csv(tmp_path / "s.csv", id=["a", "b"], truth=[0, 1], score_0=[0.5, 0.5], score_1=["0.5", "abc"])
    with pytest.raises(VersusError, match=r"^s.csv: the score 'abc' in column 'score_1', row 1 is not a number\.$"):
        load_predictions_file(p)
    f = tmp_path / "t.table.json"
    f.write_text(json.dumps({"columns": ["id", "truth", "score_0"], "data": [["a", 0, [1, 2]], ["b", 0, [1, 2]]]}))
    with pytest.raises(VersusError, match=r"^t.table.json: the score \[1, 2\] in column 'score_0', row 0 is not"):
        load_table_file(f)


# ---- 4. a logged guess that contradicts the scores -----------------------------------------------

def test_guess_contradicting_scores_is_counted_in_a_warning_and_scores_win(tmp_path):
    # argmax of the scores: 0, 1, 0, 1 (truth 0, 1, 1, 1: 3 right); logged guesses differ on rows 1 and 2
    p = _csv(tmp_path / "g.csv", id=["a", "b", "c", "d"], truth=[0, 1, 1, 1], score_0=[0.9, 0.2, 0.6, 0.1],
             score_1=[0.1, 0.8, 0.4, 0.9], guess=[0, 0, 1, 1])
    pred = load_predictions_file(p)
    assert pred.guess.tolist() == [0, 1, 0, 1] and pred.correct.mean() == 0.75
    assert pred.meta["warnings"] == [
        "g.csv: its logged 'guess' column differs from the top-scoring class on 2 of 4 rows (first: row 1); "
        "versus uses the top-scoring class, so accuracy and every view follow the scores, not the logged guesses."]


def test_guess_agreeing_with_scores_warns_nothing(tmp_path):
    p = _csv(tmp_path / "g.csv", id=["a", "b"], truth=[0, 1], score_0=[0.9, 0.2], score_1=[0.1, 0.8],
             pred=[0, 1])
    assert load_predictions_file(p).meta["warnings"] == []


def test_guess_warning_reaches_stderr_and_summary(tmp_path, capsys):
    f = tmp_path / "t.table.json"
    f.write_text(json.dumps({"columns": ["id", "truth", "guess", "score_0", "score_1"],
                             "data": [["a", 0, 1, 0.9, 0.1], ["b", 1, 0, 0.2, 0.8], ["c", 1, 1, 0.3, 0.7]]}))
    b = _csv(tmp_path / "b.csv", id=["a", "b", "c"], truth=[0, 1, 1], score_0=[0.6, 0.6, 0.6], score_1=[0.4] * 3)
    assert main(["compare", "--a", str(f), "--b", str(b), "--out", str(tmp_path / "o")]) == 0
    sentence = "t.table.json: its logged 'guess' column differs from the top-scoring class on 2 of 3 rows"
    assert f"warning: A: {sentence}" in capsys.readouterr().err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any(w.startswith(f"A: {sentence}") for w in summary["warnings"])
    assert summary["a"]["accuracy"] == 1.0  # argmax 0, 1, 1 against truth 0, 1, 1


# ---- 5. repeated ids, repeated columns, mixed score prefixes ------------------------------------

def test_repeated_id_names_the_file_and_the_id(tmp_path):
    p = _two_class_csv(tmp_path / "dup.csv", n=5)
    p.write_text(p.read_text().replace("r3", "r1"))
    with pytest.raises(VersusError) as exc:
        load_predictions_file(p)
    assert str(exc.value) == "dup.csv: example ids are not unique: 'r1' appears 2 times."


def test_repeated_id_without_a_source_still_names_the_id():
    with pytest.raises(VersusError) as exc:
        Predictions(["x", "y", "y", "y"], [0, 0, 0, 0], np.ones((4, 1)), ["c"])
    assert str(exc.value) == "Example ids are not unique: 'y' appears 3 times."


def test_repeated_score_column_in_a_csv_is_called_a_repeated_column(tmp_path):
    p = tmp_path / "dupcol.csv"
    p.write_text("id,truth,score_0,score_1,score_0\na,0,0.5,0.5,0.5\nb,1,0.2,0.8,0.2\n")
    with pytest.raises(VersusError) as exc:
        load_predictions_file(p)
    assert str(exc.value) == "dupcol.csv has two columns named 'score_0'; rename one so each column name appears once."


def test_repeated_column_in_a_table_json_is_refused(tmp_path):
    f = tmp_path / "t.table.json"
    f.write_text(json.dumps({"columns": ["id", "truth", "score_0", "score_0"], "data": [["a", 0, 0.5, 0.5]]}))
    with pytest.raises(VersusError, match="^t.table.json has two columns named 'score_0'"):
        load_table_file(f)


def test_mixed_score_prefixes_are_refused_naming_both(tmp_path):
    p = _csv(tmp_path / "mixed.csv", id=["a", "b"], truth=[0, 2], score_0=[0.2, 0.1], score_1=[0.3, 0.1],
             prob_2=[0.5, 0.8])
    with pytest.raises(VersusError) as exc:
        load_predictions_file(p)
    assert str(exc.value) == ("mixed.csv mixes score column prefixes: score_ (score_0, score_1) and prob_ "
                              "(prob_2); give every class's score column the same prefix.")


def test_two_prefixes_over_the_same_classes_or_a_chosen_prefix_are_read(tmp_path):
    p = _csv(tmp_path / "both.csv", id=["a", "b"], truth=[0, 1], score_0=[2.0, -1.0], score_1=[-1.0, 2.0],
             prob_0=[0.9, 0.1], prob_1=[0.1, 0.9], prob_2=[0.0, 0.0])
    with pytest.raises(VersusError, match="prob_2"):
        load_predictions_file(p)
    chosen = load_predictions_file(p, ColumnMap(score_prefix="prob_"))
    assert chosen.class_names == ["0", "1", "2"]
    p = _csv(tmp_path / "same.csv", id=["a", "b"], truth=[0, 1], score_0=[0.8, 0.3], score_1=[0.2, 0.7],
             prob_0=[0.9, 0.1], prob_1=[0.1, 0.9])
    same = load_predictions_file(p)
    assert same.class_names == ["0", "1"] and same.scores[0].tolist() == pytest.approx([0.8, 0.2])


def test_a_score_like_column_that_names_no_class_is_left_out_and_said(tmp_path):
    """prob_threshold beside score_0 and score_1 is not a class: the table loads and a warning
    says the column was not read as a score."""
    p = _csv(tmp_path / "thr.csv", id=["a", "b"], truth=[0, 1], score_0=[0.8, 0.3], score_1=[0.2, 0.7],
             prob_threshold=[0.5, 0.5])
    loaded = load_predictions_file(p)
    assert loaded.class_names == ["0", "1"]
    assert loaded.meta["warnings"] == ["thr.csv: the column prob_threshold was not read as scores (the score "
                                       "columns are score_*)."]
