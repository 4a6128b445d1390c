"""versus: compare two image classifiers side by side.

Entry point: shared sidebar (sources for A and B), then the page chosen in the navigation.
Pages are discovered from views/NN_name.py, in the order of their number NN. (Not "pages/": Streamlit
treats a folder of that name as an old-style multipage app, which AppTest and deep links
on a fresh server then run without app.py.)
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).parent / "views"


def discover_pages() -> list:
    """One st.Page per views/NN_name.py; the title is the name part, capitalized."""
    pages = []
    for path in sorted(PAGES_DIR.glob("[0-9]*_*.py"), key=lambda p: (int(p.stem.split("_", 1)[0]), p.stem)):
        slug = path.stem.split("_", 1)[1]
        pages.append(st.Page(str(path), title=slug.replace("_", " ").capitalize(), url_path=slug,
                             default=not pages))
    return pages


st.set_page_config(page_title="versus", layout="wide")
pages = discover_pages()
page = st.navigation(pages)
# The first start imports PyTorch and may train the demo: say so at once instead of a blank page.
with st.spinner("Starting versus: loading PyTorch and preparing the demo comparison (first start only)..."):
    from ui import query, sidebar, state
query.restore(page, pages)
state.demo_pairing()
state.update(sidebar.draw())
try:
    page.run()
finally:
    query.write(page)
