"""The CLI's --out and --markdown checked against its inputs before anything runs: versus never
overwrites an input file and never writes into a folder it reads from."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import VersusError
from core.limits import check_path_text

COMPARE_FILES = ("summary.json", "predictions.parquet", "report.html")
SERIES_FILES = ("series.json", "series.parquet", "report.html")


def _local(spec: str) -> Path | None:
    """The local file or folder a source or --data spec names, if any: the spec itself, the
    part after a kind prefix (imagefolder:PATH), or the part before :KEY[:VERSION] of a run."""
    candidates = [spec, spec.split(":", 1)[-1], spec.rsplit(":", 1)[0], spec.rsplit(":", 2)[0]]
    for text in candidates:
        if text and Path(text).expanduser().exists():
            return Path(text).expanduser().resolve()
    return None


def inputs_of(args: argparse.Namespace) -> list[Path]:
    """Every local path the arguments read from (models, tables, runs, the evaluation set)."""
    from core.datasets import parse_data  # not at import: the CLI answers --help without it

    specs = [getattr(args, name, None) for name in ("a", "b", "folder")]
    specs += list(getattr(args, "models", None) or [])
    data = getattr(args, "data", None)
    specs.append(parse_data(data)[1] if data else None)  # "digits" names no folder
    found = (_local(s) for s in specs if isinstance(s, str) and s)
    return list(dict.fromkeys(p for p in found if p is not None))


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse any file versus would write that is an input, or lies in a folder read from."""
    if not args.out.strip():
        raise VersusError("--out is empty; give the folder to write the results into.")
    for text in (args.out, getattr(args, "markdown", None) or ""):
        check_path_text(text)
    try:
        out = Path(args.out).expanduser().resolve()
        if out.exists() and not out.is_dir():
            raise VersusError(f"--out {args.out} exists and is not a folder.")
        names = SERIES_FILES if args.command == "series" else COMPARE_FILES
        written = [("--out", out / n) for n in names]
        if getattr(args, "markdown", None):
            md = Path(args.markdown).expanduser().resolve()
            if md in [target for _, target in written]:
                raise VersusError(f"--markdown {args.markdown} is the {md.name} versus writes into --out; "
                                  "give another file name.")
            written.append(("--markdown", md))
        sources = inputs_of(args)
    except OSError as exc:  # a name over the file system's limits, a loop of links, ...
        raise VersusError(f"--out or --markdown cannot be used: {exc.strerror or exc}.") from None
    for source in sources:
        for flag, target in written:
            if target == source:
                raise VersusError(f"{flag} would overwrite the input {source}; choose another "
                                  f"{'folder' if flag == '--out' else 'file'}.")
            if source.is_dir() and source in target.parents:
                raise VersusError(f"{flag} would write {target.name} into {source}, which versus reads from "
                                  "(it writes nothing into its inputs); choose another folder.")
