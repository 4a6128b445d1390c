"""Charts drawn from Vega-Lite specs kept per content key: building and validating an Altair
chart costs tens of milliseconds per chart on every rerun (most of a page switch on Confusion);
a kept spec costs a copy. The charts themselves stay pure functions in core."""
from __future__ import annotations

from typing import Any, Callable

import altair as alt
import streamlit as st


@st.cache_data(max_entries=256, show_spinner=False)
def _spec(content: tuple, _build: Callable[[], alt.TopLevelMixin]) -> dict:
    """The validated Vega-Lite spec of _build()'s chart, once per content key."""
    return _build().to_dict()


def kept_chart(content: tuple, build: Callable[[], alt.TopLevelMixin], where: Any = st, **kwargs: Any):
    """Draw build()'s chart in where (st, a column, a container), building and validating it
    only once per content: the comparison's content key plus every value the chart depends on.
    kwargs go to st.vega_lite_chart (key, on_select, selection_mode, width, height)."""
    return where.vega_lite_chart(spec=_spec(content, build), **kwargs)
