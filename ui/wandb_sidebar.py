"""Sidebar widgets for logged-prediction sources: a W&B run (cloud or offline folder), a table
folder / `.table.json` file, a CSV/Parquet predictions file, and the column mapping."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core import offline_run, wandb_api, wandb_source
from core.errors import VersusError
from core.sources import TableSource
from core.tables import FILE_SUFFIXES, TABLE_SUFFIX, ColumnMap
from core.wandb_api import CloudApi

KINDS = ("W&B run", "Table folder / .table.json", "Predictions file (CSV/Parquet)")
WHERE = ("W&B cloud", "Offline run folder")
WHAT = ("Prediction table", "Model artifact")


@dataclass(frozen=True)
class ModelFile:
    """A W&B model artifact downloaded as a checkpoint file (path None while none is chosen)."""

    path: str | None


def draw(side: str, kind: str) -> TableSource | ModelFile | None:
    """The widgets of one source kind; the chosen source, or None (after one st.error) when
    it is not ready."""
    try:
        if kind == KINDS[1]:
            return _table_file(side)
        if kind == KINDS[2]:
            return _predictions_file(side)
        return _wandb_run(side)
    except VersusError as exc:
        st.error(str(exc))
        return None


def _default_from_a(side: str, key: str, fallback: str = "") -> None:
    """B's widget starts with A's value (so B is "the same run" unless changed)."""
    if f"{side}_{key}" not in st.session_state:
        st.session_state[f"{side}_{key}"] = st.session_state.get(f"a_{key}", fallback) if side == "b" else fallback


def _choose(label: str, options: list, key: str, default_index: int, **kw):
    """A selectbox whose value falls back to options[default_index] when it is not an option."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[default_index]
    return st.selectbox(label, options, key=key, **kw)


def _mapping(side: str) -> ColumnMap:
    with st.expander("Columns"):
        st.caption("Blank fields use the defaults: id, truth (label/target/y), guess (pred/prediction), "
                   "score_<class> (prob_/p_); class names from the score columns.")
        classes = st.text_input("Class names (comma separated)", key=f"{side}_map_classes").strip()
        truth = st.text_input("Truth column", key=f"{side}_map_truth", placeholder="truth").strip()
        guess = st.text_input("Guess column", key=f"{side}_map_guess", placeholder="guess").strip()
        prefix = st.text_input("Score column prefix", key=f"{side}_map_prefix", placeholder="score_").strip()
        ident = st.text_input("Id column", key=f"{side}_map_id", placeholder="id").strip()
    names = tuple(c.strip() for c in classes.split(",") if c.strip()) or None
    return ColumnMap(ident or None, truth or None, guess or None, prefix or None, names)


def _table_file(side: str) -> TableSource | None:
    path = st.text_input("Table folder or .table.json file", key=f"{side}_table_path",
                         help="A downloaded run_table artifact (<key>.table.json + media/images/) "
                              "or any W&B .table.json file.").strip()
    mapping = _mapping(side)
    if not path:
        return None
    p = Path(path).expanduser()
    key = None
    if p.is_dir():
        names = sorted(f.name[: -len(TABLE_SUFFIX)] for f in p.glob(f"*{TABLE_SUFFIX}"))
        if not names:
            raise VersusError(f"{path} holds no {TABLE_SUFFIX} file.")
        key = _choose("Table", names, f"{side}_table_key", 0)
    elif not p.is_file():
        raise VersusError(f"{path} does not exist.")
    return TableSource("file", path, key, mapping=mapping, label=f"{p.name}/{key}" if key else p.name)


def _predictions_file(side: str) -> TableSource | None:
    path = st.text_input("Predictions file", key=f"{side}_pred_path",
                         help="CSV or Parquet with id, truth and score_<class> columns.").strip()
    mapping = _mapping(side)
    if not path:
        return None
    if Path(path).suffix.lower() not in FILE_SUFFIXES:
        raise VersusError(f"{Path(path).name} is not a .csv or .parquet file.")
    return TableSource("file", path, mapping=mapping, label=Path(path).name)


@st.cache_resource(ttl=600, show_spinner="Connecting to W&B...")
def api() -> CloudApi:
    """One logged-in API per server (the key stays inside wandb)."""
    return wandb_api.connect()


@st.cache_data(ttl=120, show_spinner="Listing runs...")
def _runs(_api: CloudApi, project: str) -> list[wandb_source.RunInfo]:
    return wandb_source.list_runs(_api, project)


@st.cache_data(ttl=120, show_spinner="Listing logged tables...")
def _versions(_api: CloudApi, run_path: str) -> list[wandb_source.TableVersion]:
    return wandb_source.table_versions(_api, run_path)


@st.cache_data(ttl=120, show_spinner="Listing model artifacts...")
def _models(_api: CloudApi, run_path: str) -> list[str]:
    return wandb_source.model_artifacts(_api, run_path)


@st.cache_data(show_spinner="Downloading the model...")
def _download(_api: CloudApi, name: str) -> str:
    return str(wandb_source.download_model(_api, name))


@st.cache_resource(max_entries=8, show_spinner="Reading the offline run...")
def _offline_run(log: str, size: int, mtime_ns: int) -> offline_run.OfflineRun:
    """The parsed log, read again only when the file changes (size and mtime are the key)."""
    return offline_run.read_offline_run(log)


def _pick_version(side: str, versions: list[tuple[str, str, str]]) -> tuple[str, str]:
    """Key and version from (key, version, label) triples; A starts at the first version, B at the latest."""
    keys = sorted({k for k, _, _ in versions})
    _default_from_a(side, "wb_key", keys[0])
    key = _choose("Table", keys, f"{side}_wb_key", 0)
    mine = [(v, lab) for k, v, lab in versions if k == key]
    labels = dict(mine)
    version = _choose("Version", [v for v, _ in mine], f"{side}_wb_version", 0 if side == "a" else -1,
                      format_func=labels.get, help="One version per log call (epoch); the step it was logged at.")
    return key, version


def _offline(side: str) -> TableSource | None:
    _default_from_a(side, "wb_offline")
    folder = st.text_input("Offline run folder", key=f"{side}_wb_offline",
                           help="A wandb/offline-run-* folder; its tables are read from W&B's staged files.").strip()
    mapping = _mapping(side)
    if not folder:
        return None
    log = offline_run.find_log(folder)
    stat = log.stat()
    run = _offline_run(str(log), stat.st_size, stat.st_mtime_ns)
    versions = [(k, v, f"{v} · step {s}" if s is not None else v) for k, v, s in offline_run.table_versions(run)]
    if not versions:
        raise VersusError(f"The offline run {run.run_id} logged no tables.")
    key, version = _pick_version(side, versions)
    return TableSource("offline", folder, key, version, mapping, label=f"{run.run_id}:{key}:{version}")


def _wandb_run(side: str) -> TableSource | ModelFile | None:
    where = st.radio("Where", WHERE, key=f"{side}_wb_where", horizontal=True)
    if where == WHERE[1]:
        return _offline(side)
    cloud = api()
    _default_from_a(side, "wb_project", wandb_api.default_project(cloud))
    project = st.text_input("Entity/project", key=f"{side}_wb_project").strip()
    if not project:
        st.caption("Give entity/project (WANDB_ENTITY and WANDB_PROJECT set the default).")
        return None
    runs = _runs(cloud, project)
    if not runs:
        raise VersusError(f"{project} has no runs.")
    labels = {r.path: r.label() for r in runs}
    _default_from_a(side, "wb_run", runs[0].path)
    run_path = _choose("Run", list(labels), f"{side}_wb_run", 0, format_func=labels.get)
    what = st.radio("Compare", WHAT, key=f"{side}_wb_what", horizontal=True)
    if what == WHAT[1]:
        models = _models(cloud, run_path)
        if not models:
            raise VersusError(f"Run {run_path} logged no model artifacts.")
        name = _choose("Model artifact", models, f"{side}_wb_model", len(models) - 1)
        return ModelFile(_download(cloud, name))
    versions = _versions(cloud, run_path)
    if not versions:
        raise VersusError(f"Run {run_path} logged no prediction tables.")
    key, version = _pick_version(side, [(t.key, t.version, t.label()) for t in versions])
    digest = next(t.digest for t in versions if t.key == key and t.version == version)
    mapping = _mapping(side)
    return TableSource("wandb", run_path, key, version, mapping,
                       label=f"{labels[run_path].split(' · ')[0]}:{key}:{version}", digest=digest)
