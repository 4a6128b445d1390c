"""`python -m core series`: evaluate an epoch series and write series.json, series.parquet and
report.html (see README "Epoch series")."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from core.datasets import EvalData, load_data
from core.errors import VersusError
from core.progress import ProgressBar
from core.run_options import InferenceOptions
from core.series import Series, series_frame_columns, series_json
from core.series_source import load_series, parse_series


def run_series(args: argparse.Namespace, options: InferenceOptions) -> dict[str, Any]:
    """Evaluate the series of args and write DIR/series.json, series.parquet and report.html."""
    from core.cli import overrides

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise VersusError(f"--out {out} exists and is not a folder.")
    spec = parse_series(args.models, args.folder)

    def data() -> EvalData:
        ev = load_data(args.data, options.max_pixels, options.skip_bad_images)
        if ev.skipped:
            print(f"note: skipped {len(ev.skipped)} non-image files (first: {ev.skipped[0]})", file=sys.stderr)
        return ev

    series = load_series(spec, data, args.arch, args.trust, args.skip_bad, over=overrides(args),
                         device=args.device, batch_size=args.batch_size, options=options, progress=ProgressBar())
    summary = series_json(series)
    write_series(series, summary, out)
    for w in summary["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    return summary


def write_series(series: Series, summary: dict[str, Any], out: Path) -> None:
    """The three files of `series` into out."""
    from core.series_report import build_series_report

    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "series.json").write_text(json.dumps(summary, indent=2))
        pd.DataFrame(series_frame_columns(series)).to_parquet(out / "series.parquet", index=False)
        (out / "report.html").write_text(build_series_report(series, summary), encoding="utf-8")
    except OSError as exc:
        raise VersusError(f"Cannot write the results into {out}: {exc.strerror or exc}.") from None


def series_main(args: argparse.Namespace, options: InferenceOptions) -> int:
    """Run `series` and print one line per checkpoint; VersusError goes to the caller."""
    summary = run_series(args, options)
    for ck in summary["checkpoints"]:
        ece = f"{ck['ece']:.4f}" if ck["ece"] is not None else "n/a"
        print(f"{ck['source']} (epoch {ck['epoch']}): accuracy {ck['accuracy']:.4f}, "
              f"macro-F1 {ck['macro_f1']:.4f}, ECE {ece}")
    print(f"{summary['forgetting_events']} forgetting events, {summary['never_right']} never right, "
          f"{summary['always_right']} always right; wrote {args.out}")
    return 0
