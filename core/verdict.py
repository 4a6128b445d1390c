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


def p_text(p: float) -> str:
    """A p-value as people read it: 'p < 0.001' or 'p = 0.034'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _errors(k: int) -> str:
    return f"{k:,} error" + ("" if k == 1 else "s")


def _points(x: float) -> str:
    return f"{x * 100:+.1f}"


def verdict(summary: dict[str, Any]) -> Verdict:
    """The verdict from summary.json: significant when McNemar's p < 0.05 and the bootstrap
    95% interval of the accuracy change excludes zero; otherwise 'no significant difference'."""
    acc = summary["delta"]["accuracy"]
    delta, (low, high) = acc["value"], acc["ci95"]
    fixed, regressed = summary["fixed"], summary["regressed"]
    p = summary["mcnemar"]["p_value"]
    if fixed == 0 and regressed == 0:
        return Verdict(f"No difference in accuracy: A and B are right on exactly the same "
                       f"{summary['a']['accuracy'] * summary['n']:,.0f} of {summary['n']:,} examples.", None)
    ci = f"(95% CI {_points(low)} to {_points(high)})"
    significant = p < ALPHA and (low > 0 or high < 0)
    if significant and delta > 0:
        return Verdict(f"B is more accurate: {_points(delta)} points {ci}, McNemar {p_text(p)}; "
                       f"it fixes {_errors(fixed)} and introduces {regressed:,}.", "B")
    if significant and delta < 0:
        return Verdict(f"A is more accurate: B loses {abs(delta) * 100:.1f} points {ci}, McNemar "
                       f"{p_text(p)}; B fixes {_errors(fixed)} and introduces {regressed:,}.", "A")
    return Verdict(f"No significant difference in accuracy: B - A = {_points(delta)} points {ci}, "
                   f"McNemar {p_text(p)}; B fixes {_errors(fixed)} and introduces {regressed:,}.", None)


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
