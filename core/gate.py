"""The CI gate of `python -m core compare`: --max-nfr, --min-delta, --max-class-regressions,
--markdown. Evaluated on the summary dict, so it reads the same keys summary.json holds."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import VersusError
from core.paired import class_rows, flip_rates, significantly_worse

if TYPE_CHECKING:
    from core.comparison import Comparison


class GateFailed(Exception):
    """One or more gate conditions failed; lines holds one sentence per failed condition."""

    def __init__(self, lines: list[str], summary: dict[str, Any] | None = None) -> None:
        self.lines, self.summary = lines, summary
        super().__init__("; ".join(lines))


@dataclass(frozen=True)
class Check:
    """One gate condition: its flag, the limit, the measured value and whether it holds."""

    flag: str
    limit: float
    value: float
    holds: bool
    line: str


def add_gate_args(parser: argparse.ArgumentParser) -> None:
    """Add the gate flags to the compare subcommand."""
    g = parser.add_argument_group("gate (exit 1 when a condition fails)")
    g.add_argument("--max-nfr", type=float, metavar="F",
                   help="fail when the negative flip rate (regressed / n) is above F (0..1)")
    g.add_argument("--min-delta", type=float, metavar="F",
                   help="fail when the lower end of the 95%% interval of B - A accuracy is below F (-1..1)")
    g.add_argument("--max-class-regressions", type=int, metavar="K",
                   help="fail when more than K classes got significantly worse (Holm-adjusted p < 0.05)")
    g.add_argument("--markdown", metavar="FILE", help="write a short summary fit for a pull-request comment")


def check_gate_args(args: argparse.Namespace) -> None:
    """Raise VersusError for an out-of-range limit (before any model runs)."""
    nfr, delta, k = getattr(args, "max_nfr", None), getattr(args, "min_delta", None), \
        getattr(args, "max_class_regressions", None)
    if nfr is not None and not 0.0 <= nfr <= 1.0:
        raise VersusError(f"--max-nfr {nfr} is not a fraction between 0 and 1.")
    if delta is not None and not -1.0 <= delta <= 1.0:
        raise VersusError(f"--min-delta {delta} is not a fraction between -1 and 1.")
    if k is not None and k < 0:
        raise VersusError(f"--max-class-regressions {k} is negative; give a count of 0 or more.")
    md = getattr(args, "markdown", None)
    if md is not None and Path(md).expanduser().is_dir():
        raise VersusError(f"--markdown {md} is a folder; give a file name.")
    folder = Path(md).expanduser().parent if md is not None else None
    if folder is not None and not folder.is_dir() and folder.resolve() != Path(args.out).expanduser().resolve():
        raise VersusError(f"--markdown {md}: its folder does not exist (only --out's is made).")


def gate_checks(summary: dict[str, Any], max_nfr: float | None = None, min_delta: float | None = None,
                max_class_regressions: int | None = None) -> list[Check]:
    """The asked-for conditions evaluated on summary."""
    checks = []
    if max_nfr is not None:
        nfr = flip_rates(summary)[0]
        checks.append(Check("--max-nfr", max_nfr, nfr, nfr <= max_nfr,
                            f"negative flip rate {nfr:.4f} is above --max-nfr {max_nfr:g} "
                            f"({summary['regressed']:,} of {summary['n']:,} examples regressed)"))
    if min_delta is not None:
        low, high = summary["delta"]["accuracy"]["ci95"]
        checks.append(Check("--min-delta", min_delta, float(low), low >= min_delta,
                            f"lower end of the 95% interval of B - A accuracy {low:+.4f} is below "
                            f"--min-delta {min_delta:g} (interval {low:+.4f} to {high:+.4f})"))
    if max_class_regressions is not None:
        worse = significantly_worse(class_rows(summary))
        names = ", ".join(str(r["class"]) for r in worse[:5]) + (" ..." if len(worse) > 5 else "")
        checks.append(Check("--max-class-regressions", max_class_regressions, len(worse),
                            len(worse) <= max_class_regressions,
                            f"{len(worse)} classes got significantly worse (Holm p < 0.05), more than "
                            f"--max-class-regressions {max_class_regressions}" + (f": {names}" if worse else "")))
    return checks


def apply_gate(args: argparse.Namespace, summary: dict[str, Any], cmp: Comparison | None = None) -> list[Check]:
    """Evaluate the gate flags of args, write --markdown, and raise GateFailed when any fails."""
    checks = gate_checks(summary, args.max_nfr, args.min_delta, args.max_class_regressions)
    if args.markdown:
        from core.markdown import pr_comment
        from core.regressions import cli_slices

        slices = cli_slices(cmp) if cmp is not None else []
        try:
            Path(args.markdown).expanduser().write_text(pr_comment(summary, checks, class_rows(summary), slices),
                                           encoding="utf-8")
        except OSError as exc:
            raise VersusError(f"Cannot write --markdown {args.markdown}: {exc.strerror or exc}.") from None
    failed = [c.line for c in checks if not c.holds]
    if failed:
        raise GateFailed(failed, summary)
    return checks
