"""The one-line verdict for non-experts: is B really more accurate than A?"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

ALPHA = 0.05


@dataclass(frozen=True)
class Verdict:
    """The sentence, and which model is significantly more accurate (None when neither is)."""

    text: str
    winner: str | None


def p_text(p: float, name: str = "p") -> str:
    """A p-value as people read it: 'p < 0.001' or 'p = 0.034' (or 'mid-p = ...')."""
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.2g}"


def _errors(k: int) -> str:
    return f"{k:,} error" + ("" if k == 1 else "s")


def _points(x: float) -> str:
    return f"{x * 100:+.1f}"


def verdict(summary: dict[str, Any]) -> Verdict:
    """The verdict from summary.json: significant when McNemar's mid-p (the headline paired test)
    is below 0.05 and the bootstrap 95% interval of the accuracy change excludes zero; otherwise
    'no significant difference'."""
    acc = summary["delta"]["accuracy"]
    delta, (low, high) = acc["value"], acc["ci95"]
    fixed, regressed = summary["fixed"], summary["regressed"]
    p = summary["mcnemar"]["midp_p_value"]
    if fixed == 0 and regressed == 0:
        return Verdict(f"No difference in accuracy: A and B are right on exactly the same "
                       f"{summary['a']['accuracy'] * summary['n']:,.0f} of {summary['n']:,} examples.", None)
    ci = f"(95% CI {_points(low)} to {_points(high)})"
    significant = p < ALPHA and (low > 0 or high < 0)
    if significant and delta > 0:
        return Verdict(f"B is more accurate: {_points(delta)} points {ci}, McNemar {p_text(p, 'mid-p')}; "
                       f"it fixes {_errors(fixed)} and introduces {regressed:,}.", "B")
    if significant and delta < 0:
        return Verdict(f"A is more accurate: B loses {abs(delta) * 100:.1f} points {ci}, McNemar "
                       f"{p_text(p, 'mid-p')}; B fixes {_errors(fixed)} and introduces {regressed:,}.", "A")
    return Verdict(f"No significant difference in accuracy: B - A = {_points(delta)} points {ci}, "
                   f"McNemar {p_text(p, 'mid-p')}; B fixes {_errors(fixed)} and introduces {regressed:,}.", None)


def _per100(x: float) -> str:
    """A count out of 100 as people say it: whole numbers from 10 up, else one decimal."""
    x = abs(x) * 100
    text = f"{x:.0f}" if round(x, 1) >= 10 else f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _signed100(x: float) -> str:
    """'3 more' / '2 fewer' / 'no more' for a fraction x of the examples, per 100."""
    if round(abs(x) * 100, 1) == 0:
        return "no more"
    return f"{_per100(x)} {'more' if x > 0 else 'fewer'}"


def _mistakes(k: int, new: bool = False) -> str:
    return f"{k:,} {'new ' if new else ''}one" if k == 1 else f"{k:,} {'new ones' if new else 'of them'}"


def plain_sentence(summary: dict[str, Any]) -> str:
    """The verdict in words a stakeholder without statistics reads, e.g. "B gets 12 more right
    out of every 100 (95% sure: between 9 and 15 more). It fixes 67 of A's mistakes and makes 2
    new ones." The interval is the paired bootstrap 95% interval of B - A accuracy."""
    acc = summary["delta"]["accuracy"]
    delta, (low, high) = acc["value"], acc["ci95"]
    fixed, regressed = int(summary["fixed"]), int(summary["regressed"])
    a_wrong = summary["a"].get("errors")
    if fixed == 0 and regressed == 0:
        return "B and A get exactly the same examples right: nothing changes."
    if round(abs(delta) * 100, 1) == 0:
        head = "B gets about as many right as A"
    else:
        head = f"B gets {_signed100(delta)} right out of every 100"
    if low > 0 or high < 0:
        sure = f"between {_per100(min(abs(low), abs(high)))} and {_per100(max(abs(low), abs(high)))} " \
               f"{'more' if low > 0 else 'fewer'}"
    else:
        sure = f"between {_signed100(low)} and {_signed100(high)}, so it may be no real change"
    fixes = f"It fixes {fixed:,} of A's {a_wrong:,} mistakes" if a_wrong else f"It fixes {fixed:,} of A's mistakes"
    makes = "makes no new ones" if regressed == 0 else f"makes {_mistakes(regressed, new=True)}"
    return f"{head} (95% sure: {sure}). {fixes} and {makes}."


def stats_line(summary: dict[str, Any]) -> str:
    """The statistics behind plain_sentence, on one line: accuracies, B - A with its 95% CI,
    McNemar's mid-p (exact test beside it), and the flip rates."""
    from core.paired import flip_rates, headline_midp

    acc = summary["delta"]["accuracy"]
    low, high = acc["ci95"]
    nfr, pfr = flip_rates(summary)
    return (f"Accuracy A {summary['a']['accuracy']:.2%}, B {summary['b']['accuracy']:.2%}; B - A "
            f"{_points(acc['value'])} points (95% CI {_points(low)} to {_points(high)}, paired bootstrap); "
            f"McNemar mid-p {p_text(headline_midp(summary))} ({'exact' if summary['mcnemar'].get('exact') else 'chi-square'} "
            f"{p_text(summary['mcnemar']['p_value'])}); negative flip rate {nfr:.2%}, positive flip rate {pfr:.2%}.")


def plain_verdict(summary: dict[str, Any]) -> tuple[str, str]:
    """(plain_sentence, stats_line): the verdict for everyone, and the statistics below it."""
    return plain_sentence(summary), stats_line(summary)


def significance_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Accuracy and macro-F1 of A and B, the change B - A and its paired bootstrap 95% interval."""
    rows = []
    for key, label in (("accuracy", "Accuracy"), ("macro_f1", "Macro F1")):
        d = summary["delta"][key]
        rows.append({"metric": label, "A": summary["a"][key], "B": summary["b"][key],
                     "B - A": d["value"], "95% CI low": d["ci95"][0], "95% CI high": d["ci95"][1]})
    return pd.DataFrame(rows)


def mcnemar_sentence(summary: dict[str, Any]) -> str:
    """McNemar's test in words: the discordant pairs, which test ran, its statistic and p."""
    mc, fixed, regressed = summary["mcnemar"], summary["fixed"], summary["regressed"]
    test = ("exact binomial test" if mc.get("exact") else
            f"chi-square test with continuity correction, statistic {mc['statistic']:.2f}")
    return (f"McNemar's test on the {fixed + regressed:,} examples where exactly one model is right "
            f"(B fixes {fixed:,}, introduces {regressed:,}): {test}, {p_text(mc['p_value'])}.")
