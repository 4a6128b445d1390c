"""Training history of the compared W&B runs (cloud or offline): which runs, their metrics,
the steps the compared tables were logged at, and the chart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import altair as alt
import pandas as pd

from core import offline_run, wandb_source
from core.wandb_api import CloudApi

MARK_COLOR = "#888888"


@dataclass(frozen=True)
class RunRef:
    """A run behind one side of the comparison, and the table version that side shows."""

    kind: str
    location: str
    table_key: str | None
    table_version: str | None

    def label(self) -> str:
        """The run's short name: its id (cloud) or folder name (offline)."""
        return self.location.rstrip("/").rsplit("/", 1)[-1]


def run_ref(meta: dict[str, Any]) -> RunRef | None:
    """The run a Predictions' meta names (wandb_run or offline_run), or None."""
    for kind, field in (("wandb", "wandb_run"), ("offline", "offline_run")):
        if meta.get(field):
            return RunRef(kind, str(meta[field]), meta.get("table_key"), meta.get("table_version"))
    return None


def available_keys(ref: RunRef, api: Callable[[], CloudApi]) -> list[str]:
    """The numeric metrics the run logged."""
    if ref.kind == "offline":
        return offline_run.numeric_keys(offline_run.read_offline_run(ref.location))
    return wandb_source.history_keys(api(), ref.location)


def load_history(ref: RunRef, keys: list[str], api: Callable[[], CloudApi]) -> pd.DataFrame:
    """Long frame (key, step, value) of the run's full history of keys."""
    if ref.kind == "offline":
        return offline_run.offline_history(offline_run.read_offline_run(ref.location), keys)
    return wandb_source.run_history(api(), ref.location, keys)


def table_step(ref: RunRef, api: Callable[[], CloudApi]) -> int | None:
    """The step at which the compared table version was logged (None when unknown)."""
    if ref.kind == "offline":
        run = offline_run.read_offline_run(ref.location)
        versions = offline_run.table_versions(run)
    else:
        versions = [(t.key, t.version, t.step) for t in wandb_source.table_versions(api(), ref.location)]
    return next((s for k, v, s in versions if k == ref.table_key and v == ref.table_version), None)


def history_chart(frame: pd.DataFrame, marks: pd.DataFrame, width: int = 420,
                  height: int = 220) -> alt.ConcatChart:
    """One panel per metric with a line per run (frame: run, key, step, value), and a dashed
    rule at each compared table's step (marks: side, step)."""
    panels = []
    for key in sorted(frame["key"].unique()):
        part = frame[frame["key"] == key]
        lines = alt.Chart(part).mark_line(point=len(part) <= 60).encode(
            x=alt.X("step:Q", title="step"),
            y=alt.Y("value:Q", title=key, scale=alt.Scale(zero=False)),
            color=alt.Color("run:N", title="run"),
            tooltip=["run:N", "step:Q", alt.Tooltip("value:Q", format=".4f")],
        )
        rules = alt.Chart(marks).mark_rule(color=MARK_COLOR, strokeDash=[4, 3]).encode(
            x="step:Q", tooltip=["side:N", "step:Q"])
        labels = alt.Chart(marks).mark_text(align="left", dx=3, dy=-4, color=MARK_COLOR).encode(
            x="step:Q", y=alt.value(8), text="side:N")
        layers = [lines, rules, labels] if len(marks) else [lines]
        panels.append(alt.layer(*layers).properties(title=key, width=width, height=height))
    return alt.concat(*panels, columns=2)
