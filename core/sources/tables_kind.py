"""Logged-prediction kinds: W&B runs, offline run folders, table files/folders, CSV/Parquet."""
from __future__ import annotations

from pathlib import Path

from core.errors import VersusError
from core.sources.registry import Kind, register
from core.sources import TableSource
from core.tables import FILE_SUFFIXES, TABLE_SUFFIX


def _wandb(spec: str, arch: str | None, trust: bool) -> TableSource:
    parts = spec[len("wandb:"):].split(":")
    if len(parts) > 3 or not parts[0] or parts[0].count("/") != 2 or not all(parts[0].split("/")):
        raise VersusError(f"{spec} is not wandb:ENTITY/PROJECT/RUN_ID[:TABLE_KEY[:VERSION]].")
    parts += [None] * (3 - len(parts))
    return TableSource("wandb", parts[0], parts[1] or None, parts[2] or None)


def split_run_spec(spec: str) -> tuple[str, str | None, str | None] | None:
    """(run folder or .wandb file, key, version) when spec names an offline run, else None."""
    head, *rest = spec.split(":")
    if len(rest) > 2:
        return None
    p = Path(head).expanduser()
    is_run = (p.is_dir() and any(p.glob("run-*.wandb"))) or (p.is_file() and p.suffix == ".wandb")
    if not is_run:
        return None
    rest += [None] * (2 - len(rest))
    return head, rest[0] or None, rest[1] or None


def _offline(spec: str, arch: str | None, trust: bool) -> TableSource:
    folder, key, version = split_run_spec(spec)
    return TableSource("offline", folder, key, version)


def _is_table(spec: str) -> bool:
    p = Path(spec).expanduser()
    return (not p.is_dir() and p.name.endswith(TABLE_SUFFIX)) or (p.is_dir() and any(p.glob(f"*{TABLE_SUFFIX}")))


def _is_predictions_file(spec: str) -> bool:
    p = Path(spec).expanduser()
    return not p.is_dir() and p.suffix.lower() in FILE_SUFFIXES


def _file(spec: str, arch: str | None, trust: bool) -> TableSource:
    return TableSource("file", spec)


register(Kind("wandb", "wandb:ENTITY/PROJECT/RUN_ID[:KEY[:VERSION]]", lambda s: s.startswith("wandb:"),
              _wandb, url_fields=("wb_where", "wb_project", "wb_run", "wb_what", "wb_key", "wb_version")))
register(Kind("offline", "a W&B offline run folder or .wandb file (optionally :KEY[:VERSION])",
              lambda s: split_run_spec(s) is not None, _offline, url_fields=("wb_where", "wb_offline", "wb_what", "wb_key", "wb_version")))
register(Kind("table", f"a {TABLE_SUFFIX} file or a folder holding one", _is_table, _file,
              url_fields=("table_path", "table_key", "map_classes", "map_truth", "map_guess", "map_prefix", "map_id")))
register(Kind("predictions", f"a predictions file ({', '.join(FILE_SUFFIXES)})", _is_predictions_file,
              _file, url_fields=("pred_path", "map_classes", "map_truth", "map_guess", "map_prefix", "map_id")))
