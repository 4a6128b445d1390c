"""The verdict anyone can read (core/verdict.plain_verdict), on hand-worked numbers."""
from __future__ import annotations

import pytest

from core.verdict import plain_sentence, plain_verdict, stats_line


def _summary(delta, low, high, fixed, regressed, n=1000, acc_a=0.8, errors_a=200, p=1e-9, exact=False, **extra):
    return {"n": n, "a": {"accuracy": acc_a, "errors": errors_a}, "b": {"accuracy": acc_a + delta},
            "delta": {"accuracy": {"value": delta, "ci95": [low, high]}},
            "fixed": fixed, "regressed": regressed,
            "mcnemar": {"statistic": 3.0, "p_value": p, "exact": exact}, **extra}


def test_issue_example():
    # 1000 examples, A wrong on 200; B fixes 122, breaks 2: +120 right = 12 per 100.
    s = _summary(0.12, 0.09, 0.15, 122, 2)
    assert plain_sentence(s) == ("B gets 12 more right out of every 100 (95% sure: between 9 and 15 more). "
                                 "It fixes 122 of A's 200 mistakes and makes 2 new ones.")


def test_worse_b_says_fewer():
    s = _summary(-0.031, -0.049, -0.012, 5, 36)
    assert plain_sentence(s) == ("B gets 3.1 fewer right out of every 100 (95% sure: between 1.2 and 4.9 fewer). "
                                 "It fixes 5 of A's 200 mistakes and makes 36 new ones.")


def test_interval_across_zero_says_it_may_be_no_change():
    s = _summary(0.004, -0.008, 0.016, 10, 6)
    assert plain_sentence(s) == ("B gets 0.4 more right out of every 100 (95% sure: between 0.8 fewer and 1.6 more, "
                                 "so it may be no real change). It fixes 10 of A's 200 mistakes and makes 6 new ones.")


def test_one_new_mistake_and_none():
    assert plain_sentence(_summary(0.05, 0.02, 0.08, 51, 1)).endswith("makes 1 new one.")
    assert plain_sentence(_summary(0.05, 0.02, 0.08, 50, 0)).endswith("makes no new ones.")


def test_no_change_at_all():
    assert plain_sentence(_summary(0.0, 0.0, 0.0, 0, 0)) == \
        "B and A get exactly the same examples right: nothing changes."


def test_without_error_count_no_total_is_claimed():
    s = _summary(0.12, 0.09, 0.15, 122, 2)
    del s["a"]["errors"]
    assert "It fixes 122 of A's mistakes and makes 2 new ones." in plain_sentence(s)


def test_stats_line_reads_midp_and_flip_rates():
    # fixed 7, regressed 1: mid-p = 2*P(X<=1) - P(X=1), X~Bin(8, 1/2) = 2*9/256 - 8/256 = 10/256
    s = _summary(0.006, -0.001, 0.013, 7, 1, mcnemar={"p_value": 0.0703, "exact": True, "midp_p_value": 10 / 256},
                 flips={"negative_flip_rate": 0.001, "positive_flip_rate": 0.007})
    line = stats_line(s)
    assert f"McNemar mid-p p = {10 / 256:.2g} (exact p = 0.07)" in line
    assert "negative flip rate 0.10%, positive flip rate 0.70%" in line
    assert "B - A +0.6 points (95% CI -0.1 to +1.3, paired bootstrap)" in line


def test_stats_line_prefers_summary_keys():
    s = _summary(0.006, -0.001, 0.013, 7, 1, mcnemar={"p_value": 0.07, "exact": True, "midp_p_value": 0.5},
                 flips={"negative_flip_rate": 0.25, "positive_flip_rate": 0.125})
    line = plain_verdict(s)[1]
    assert "mid-p p = 0.5 " in line and "negative flip rate 25.00%, positive flip rate 12.50%" in line


@pytest.mark.parametrize("delta,word", [(0.0004, "about as many right as A"), (0.25, "25 more right")])
def test_rounding(delta, word):
    assert word in plain_sentence(_summary(delta, delta - 0.01, delta + 0.01, 30, 20))


def test_report_carries_the_plain_verdict(synthetic_pair):
    import html

    from core.comparison import Comparison
    from core.report import build_report
    from core.summary import summarize

    cmp = Comparison.build(*synthetic_pair)
    summary = summarize(cmp, "a", "b")
    sentence, stats = plain_verdict(summary)
    page = build_report(cmp, summary)
    assert f"<p id='plain-verdict'><b>{html.escape(sentence)}</b>" in page
    assert html.escape(stats) in page
    assert f"It fixes {summary['fixed']} of A's {summary['a']['errors']} mistakes" in sentence
