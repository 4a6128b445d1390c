"""A run's logged history, read once a run and two minutes (the History and Series pages share
it: an offline run's whole log is parsed for each read)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.history import RunRef, available_keys, load_history, table_step
from ui.wandb_sidebar import api


@st.cache_data(ttl=120, show_spinner="Reading the logged metrics...")
def logged_keys(ref: RunRef) -> list[str]:
    """The metric keys the run logged."""
    return available_keys(ref, api)


@st.cache_data(ttl=120, show_spinner="Reading the full history...")
def logged_history(ref: RunRef, keys: tuple[str, ...]) -> pd.DataFrame:
    """The run's logged values of keys, per step."""
    return load_history(ref, list(keys), api)


@st.cache_data(ttl=120, show_spinner=False)
def logged_step(ref: RunRef) -> int | None:
    """The step at which the run logged its prediction table."""
    return table_step(ref, api)
