"""Altair charts of the embedding map, from core/embedding's bounded frames."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.embedding import STATUS_ORDER

STATUS_COLORS = {"regressed": "#e45756", "fixed": "#54a24b", "both wrong": "#9d755d", "both right": "#bab0ac"}
SELECT = "pick"


def _status_color() -> alt.Color:
    return alt.Color("status:N", title="status", scale=alt.Scale(domain=STATUS_ORDER,
                     range=[STATUS_COLORS[s] for s in STATUS_ORDER]))


def points_chart(points: pd.DataFrame, thumbs: pd.Series | None = None, height: int = 480) -> alt.Chart:
    """A scatter of the drawn points colored by status; hover shows the id and, when given, the
    thumbnail (a data URI per point); a box or click selection names the rows picked."""
    frame = points.assign(image=thumbs.to_numpy() if thumbs is not None else "")
    tooltip = ["id:N", "status:N"] + (["image:N"] if thumbs is not None else [])
    sel = alt.selection_interval(name=SELECT, encodings=["x", "y"])
    return (alt.Chart(frame).mark_circle(size=28, opacity=0.8)
            .encode(x=alt.X("x:Q", title="PC 1"), y=alt.Y("y:Q", title="PC 2"), color=_status_color(),
                    tooltip=tooltip)
            .add_params(sel).properties(height=height))


def density_chart(bins: pd.DataFrame, height: int = 480) -> alt.Chart:
    """Density bins: each non-empty cell shaded by its share regressed, sized by count (log
    opacity); a click selection names the cell picked."""
    sel = alt.selection_point(name=SELECT, fields=["x", "x2", "y", "y2"])
    return (alt.Chart(bins).mark_rect(stroke=None)
            .encode(x=alt.X("x:Q", title="PC 1"), x2="x2:Q", y=alt.Y("y:Q", title="PC 2"), y2="y2:Q",
                    color=alt.Color("regressed_share:Q", title="share regressed",
                                    scale=alt.Scale(scheme="reds", domain=[0, 1])),
                    opacity=alt.Opacity("count:Q", scale=alt.Scale(type="log", range=[0.25, 1]), legend=None),
                    tooltip=["count:Q", *[f"{s}:Q" for s in STATUS_ORDER],
                             alt.Tooltip("regressed_share:Q", format=".1%")])
            .add_params(sel).properties(height=height))
