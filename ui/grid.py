"""Image grids of examples with one-line captions, drawn as one HTML block from thumbnails of
the visible rows only (one element instead of a column per image keeps reruns fast)."""
from __future__ import annotations

import re
from html import escape
from typing import Sequence

import numpy as np
import streamlit as st

from core.thumbnails import thumbnail_urls

CELL = "vs-cell"


def mark(right: bool) -> str:
    """A green check or a red cross as HTML (only a wrong mark is red)."""
    return '<span style="color:#1a7f37">✓</span>' if right else '<span style="color:#cf222e">✗</span>'


def image_grid(samples, rows: Sequence[int], captions: Sequence[str], px: int = 72, width: int = 132) -> None:
    """Draw the images of rows in a wrapping grid, each with a one-line caption (HTML: escape
    plain text before) that never wraps; the full caption shows on hover."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return
    urls = thumbnail_urls(samples, rows, px)
    cells = []
    for url, caption in zip(urls, captions):
        img = (f'<img src="{url}" width="{px}" height="{px}" style="object-fit:contain;image-rendering:pixelated">'
               if url else f'<div style="width:{px}px;height:{px}px;margin:auto;background:#f0f2f6"></div>')
        plain = escape(_strip_tags(caption), quote=True)
        cells.append(f'<div class="{CELL}" style="width:{width}px;text-align:center">{img}'
                     f'<div title="{plain}" style="white-space:nowrap;overflow:hidden;text-overflow:ellipsis;'
                     f'font-size:0.75rem">{caption}</div></div>')
    st.markdown('<div style="display:flex;flex-wrap:wrap;gap:6px 4px">' + "".join(cells) + "</div>",
                unsafe_allow_html=True)


def _strip_tags(html: str) -> str:
    """The text of a small caption's HTML (for the hover title)."""
    return re.sub(r"<[^>]+>", "", html)
