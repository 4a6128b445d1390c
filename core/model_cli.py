"""The command line's model side: sources from --a/--b (through the registry), warnings on
stderr and in summary.json, and each side's name for the reports."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from core.errors import VersusError
from core.predictions import Predictions
from core.sources import CheckpointSource, TableSource, parse_source
from core.sources.naming import add_side_notes  # noqa: F401  (the CLI's import)


def model_sources(args: argparse.Namespace) -> tuple[CheckpointSource | TableSource, CheckpointSource | TableSource]:
    """The sources of A and B. A .py architecture named here imports without --trust (the
    user named the code to run); the same offline run as A and B without versions is refused."""
    src_a = parse_source(args.a, args.arch_a or args.arch, args.trust, arch_named=True)
    src_b = parse_source(args.b, args.arch_b or args.arch, args.trust, arch_named=True)
    same_run_check(src_a, src_b)
    model_only = [f for f, v in (("--arch", args.arch), ("--arch-a", args.arch_a), ("--arch-b", args.arch_b),
                                 ("--size", args.size), ("--channels", args.channels), ("--mean", args.mean),
                                 ("--std", args.std)) if v is not None]
    if model_only and isinstance(src_a, TableSource) and isinstance(src_b, TableSource):
        print(f"note: {', '.join(model_only)} apply to models run here; A and B are logged predictions, so "
              f"{'they were' if len(model_only) > 1 else 'it was'} not used.", file=sys.stderr)
    return src_a, src_b


def same_run_check(a: Any, b: Any) -> None:
    """One offline run as A and B with the same table and no versions would compare the latest
    version with itself: say so, listing the versions to choose from."""
    if not (isinstance(a, TableSource) and isinstance(b, TableSource) and a.kind == b.kind == "offline"):
        return
    from core.offline_run import find_log, read_offline_run, table_versions

    if find_log(a.location).resolve() != find_log(b.location).resolve():
        return
    if a.key != b.key or a.version or b.version:
        return

    run = read_offline_run(find_log(a.location))
    listed = ", ".join(f"{k}:{v}" for k, v, _ in table_versions(run)) or "none"
    raise VersusError(f"A and B are the same offline run {a.location} without versions, so versus would "
                      f"compare a table with itself; add :KEY:VERSION to each (logged: {listed}).")


def add_sources(summary: dict[str, Any], pa: Predictions, pb: Predictions) -> None:
    """Each side's source fields into summary["sources"] (its warnings are already in
    summary["warnings"], collected by the evaluation)."""
    summary["sources"] = {side: {k: p.meta.get(k) for k in ("path", "name", "arch", "format", "epoch")}
                          for p, side in ((pa, "a"), (pb, "b"))}


def say_warnings(summary: dict[str, Any]) -> None:
    """Each warning on stderr as `warning: ...`."""
    for text in summary.get("warnings") or []:
        print(f"warning: {text}", file=sys.stderr)
