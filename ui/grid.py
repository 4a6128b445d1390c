"""Image grids of examples with captions, drawn from thumbnails of the visible rows only."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import streamlit as st

from core.thumbnails import thumbnail_urls


def image_grid(samples, rows: Sequence[int], captions: Sequence[str], columns: int = 6,
               colors: Sequence[str] | None = None, px: int = 96) -> None:
    """Draw the images of rows in a grid; captions may use colour via colors ('red'/'green')."""
    rows = list(np.asarray(rows, dtype=np.int64).tolist())
    if not rows:
        return
    urls = thumbnail_urls(samples, np.asarray(rows, dtype=np.int64), px)
    for start in range(0, len(rows), columns):
        cols = st.columns(columns)
        for j in range(min(columns, len(rows) - start)):
            k = start + j
            with cols[j]:
                if urls[k] is None:
                    st.caption("(image unavailable)")
                else:
                    st.image(urls[k], width=px)
                text = captions[k]
                if colors is not None and colors[k]:
                    text = f":{colors[k]}[{text}]"
                st.markdown(f"<small>{text}</small>" if colors is None else text, unsafe_allow_html=True)
