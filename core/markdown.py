"""A short Markdown summary of a comparison, fit for a pull-request comment."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.paired import flip_rates, significantly_worse
from core.verdict import plain_verdict

if TYPE_CHECKING:
    from core.gate import Check
    from core.slices import Slice


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def pr_comment(summary: dict[str, Any], checks: list["Check"], rows: list[dict[str, Any]],
               slices: list["Slice"] = (), worst: int = 5) -> str:
    """Verdict, statistics, gate conditions, the classes and slices significantly worse in B
    (most regressed first) and the warnings, in Markdown."""
    sentence, stats = plain_verdict(summary)
    failed = [c for c in checks if not c.holds]
    head = "Gate failed" if failed else ("Gate passed" if checks else "Comparison")
    nfr, pfr = flip_rates(summary)
    lines = [f"### versus: {head}", "", sentence, "", f"<sub>{stats}</sub>", "",
             f"A **{_cell(summary['a']['source'])}** accuracy {summary['a']['accuracy']:.2%}, "
             f"B **{_cell(summary['b']['source'])}** accuracy {summary['b']['accuracy']:.2%} on "
             f"{summary['n']:,} examples; negative flip rate {nfr:.2%}, positive flip rate {pfr:.2%}."]
    if checks:
        lines += ["", "| condition | limit | value | |", "|---|---|---|---|"]
        lines += [f"| `{c.flag}` | {c.limit:g} | {c.value:.4g} | {'pass' if c.holds else '**fail**'} |"
                  for c in checks]
    worse = sorted(significantly_worse(rows), key=lambda r: r["p_value_holm"])[:worst]
    if worse:
        lines += ["", "Classes significantly worse in B (Holm p < 0.05):", "",
                  "| class | fixed | regressed | Holm p |", "|---|---|---|---|"]
        lines += [f"| {_cell(r['class'])} | {r['fixed']} | {r['regressed']} | {r['p_value_holm']:.2g} |"
                  for r in worse]
    bad = [s for s in slices if s.significant][:worst]
    if bad:
        lines += ["", "Slices where B regresses (Holm p < 0.05):", "",
                  "| slice | examples | fixed | regressed | Holm p |", "|---|---|---|---|---|"]
        lines += [f"| {_cell(s.family)} {_cell(s.name)} | {s.n} | {s.fixed} | {s.regressed} | {s.p_value_holm:.2g} |"
                  for s in bad]
    warnings = summary.get("warnings") or []
    if warnings:
        lines += ["", "Warnings:", ""] + [f"- {_cell(w)}" for w in warnings]
    return "\n".join(lines) + "\n"
