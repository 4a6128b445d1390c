"""The command line: python -m core compare | series (the contract is in docs/cli.md).

Arguments are parsed and every one of them checked before torch or any model code is imported
and before any cache is looked at, so a mistyped flag is answered in well under a second."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import VersusError
from core.gate import GateFailed, add_gate_args, apply_gate, check_gate_args
from core.limits import check_environment
from core.out_paths import check_outputs
from core.prep_args import parse_floats, parse_size
from core.run_options import InferenceOptions, add_inference_args, options_from_args

if TYPE_CHECKING:
    from core.comparison import Comparison
    from core.sources import PrepOverrides


class _StoreOnce(argparse._StoreAction):
    """A value flag given twice is a mistake to report, not a choice of the last one."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        given = namespace.__dict__.setdefault(_GIVEN, {})
        if self.dest in given:
            parser.error(f"{option_string} was given twice ({given[self.dest]} and {_shown(values)}); give it once")
        given[self.dest] = _shown(values)
        super().__call__(parser, namespace, values, option_string)


_GIVEN = "_given"


def _shown(values: Any) -> str:
    return " ".join(map(str, values)) if isinstance(values, list) else str(values)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line and exit 2, and a repeated value flag
    as such."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        parsed, extra = super().parse_known_args(args, namespace)
        parsed.__dict__.pop(_GIVEN, None)
        return parsed, extra

    def error(self, message: str) -> None:  # type: ignore[override]
        raise VersusError(f"{message} (see {self.prog} --help).")


def _add_model_args(p: argparse.ArgumentParser, what: str) -> None:
    """The architecture, data, preprocessing, device and inference flags compare and series share."""
    p.add_argument("--arch", help=f"architecture of {what}: convnet, a torchvision name, timm:NAME(k=v), "
                   "or path/file.py:Class(k=v)")
    p.add_argument("--data", default="digits", help="digits | imagefolder:PATH | mnist:ROOT | cifar10:ROOT | ...")
    p.add_argument("--size", help="resize to H or HxW")
    p.add_argument("--channels", type=int, choices=(1, 3))
    p.add_argument("--mean", help="normalization mean, comma separated")
    p.add_argument("--std", help="normalization std, comma separated")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--batch-size", type=int, default=None, help="default 64 on CPU, 256 on a GPU")
    p.add_argument("--trust", action="store_true", help="allow full pickles that can run code")
    add_inference_args(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m core`."""
    parser = _Parser(prog="python -m core", description="Compare two image classifiers.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("compare", help="compare model A with model B on one evaluation set")
    c.add_argument("--a", required=True, help="source of model A: checkpoint, Hugging Face folder, .onnx, table "
                   "folder, .table.json, .csv/.parquet, offline run folder[:KEY[:VERSION]], or "
                   "wandb:ENTITY/PROJECT/RUN_ID[:TABLE_KEY[:VERSION]]")
    c.add_argument("--b", required=True, help="source of model B")
    c.add_argument("--arch-a", help="architecture of model A")
    c.add_argument("--arch-b", help="architecture of model B")
    _add_model_args(c, "both models")
    c.add_argument("--intersect", action="store_true", help="compare on the ids A and B share")
    c.add_argument("--out", required=True, help="output folder")
    add_gate_args(c)
    s = sub.add_parser("series", help="evaluate an epoch series: metrics per checkpoint and per-example dynamics")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--models", nargs="+", metavar="SRC", help="checkpoints in series order")
    src.add_argument("--folder", help="folder of epoch checkpoints, or RUN:KEY (an offline run folder or "
                     "wandb:ENTITY/PROJECT/RUN_ID, and the key of its logged table)")
    _add_model_args(s, "every checkpoint")
    s.add_argument("--skip-bad", action="store_true",
                   help="leave out unreadable or mismatched checkpoints (each said as a warning)")
    s.add_argument("--out", required=True, help="output folder")
    return parser


def overrides(args: argparse.Namespace) -> PrepOverrides:
    """The preprocessing the flags ask for (None fields are inferred)."""
    from core.sources import PrepOverrides

    return PrepOverrides(*_prep_flags(args))


def _prep_flags(args: argparse.Namespace) -> tuple:
    return (parse_size(args.size) if args.size else None, args.channels,
            parse_floats(args.mean, "--mean") if args.mean else None,
            parse_floats(args.std, "--std") if args.std else None)


def check_args(args: argparse.Namespace) -> InferenceOptions:
    """Every argument checked before anything is read, computed or looked up in a cache."""
    from core.datasets import parse_data

    check_environment()
    _prep_flags(args)
    parse_data(args.data)
    check_outputs(args)
    if args.command == "compare":
        check_gate_args(args)
    return options_from_args(args)


def compare(args: argparse.Namespace, options: InferenceOptions) -> dict[str, Any]:
    """Run one comparison and write summary.json, predictions.parquet and report.html into args.out."""
    from core.comparison import Comparison
    from core.datasets import EvalData, load_data
    from core.export import write_predictions
    from core.model_cli import add_side_notes, add_sources, model_sources, say_warnings
    from core.progress import ProgressBar
    from core.sources import load_sources
    from core.summary import summarize

    out = Path(args.out)

    def data_for_checkpoints() -> EvalData:
        data = load_data(args.data, options.max_pixels, options.skip_bad_images)
        for name in data.skipped[:1]:
            print(f"note: skipped {len(data.skipped)} non-image files (first: {name})", file=sys.stderr)
        return data

    src_a, src_b = model_sources(args)
    (pa, pb), data = load_sources([src_a, src_b], data_for_checkpoints, over=overrides(args), device=args.device,
                                  batch_size=args.batch_size, options=options, progress=ProgressBar())
    pa, pb = add_side_notes(pa, pb)
    cmp = Comparison.build(pa, pb, intersect=args.intersect)
    summary = summarize(cmp, args.a, args.b, preprocessing={"a": pa.meta["preprocessing"],
                                                             "b": pb.meta["preprocessing"]},
                        architecture={"a": pa.meta["arch_note"], "b": pb.meta["arch_note"]},
                        epoch={"a": pa.meta["epoch"], "b": pb.meta["epoch"]}, data=data.name)
    add_sources(summary, pa, pb)
    if options.precision != "fp32":
        summary["precision"] = options.precision
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        write_predictions(cmp, out / "predictions.parquet")
        write_report(cmp, summary, out)
    except OSError as exc:
        raise VersusError(f"Cannot write the results into {out}: {exc.strerror or exc}.") from None
    for side, p in (("A", pa), ("B", pb)):
        print(f"{side}: {p.meta['arch_note']}; preprocessing {p.meta['preprocessing']}", file=sys.stderr)
    say_warnings(summary)
    apply_gate(args, summary, cmp)
    return summary


def write_report(cmp: Comparison, summary: dict[str, Any], out: Path) -> None:
    """DIR/report.html: the self-contained stakeholder report (core/report.py)."""
    from core.report import build_report

    (out / "report.html").write_text(build_report(cmp, summary), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        if args.command not in ("compare", "series"):
            raise VersusError("Say what to do: python -m core compare --a SRC --b SRC --out DIR "
                              "(or python -m core series ...).")
        options = check_args(args)
        if args.command == "series":
            from core.cli_series import series_main

            return series_main(args, options)
        summary = compare(args, options)
    except VersusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GateFailed as exc:
        if exc.summary is not None:
            _headline(exc.summary, args.out)
        for line in exc.lines:
            print(f"gate failed: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: stopped (Ctrl-C); nothing was written for the unfinished run.", file=sys.stderr)
        return 130
    _headline(summary, args.out)
    return 0


def _headline(summary: dict[str, Any], out: str) -> None:
    """The one-line result on stdout."""
    print(f"A accuracy {summary['a']['accuracy']:.4f}, B accuracy {summary['b']['accuracy']:.4f}, "
          f"fixed {summary['fixed']}, regressed {summary['regressed']}; wrote {out}")
