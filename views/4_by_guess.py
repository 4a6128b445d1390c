"""By guess: errors grouped by guessed class, A and B side by side, each group opening its examples."""
from html import escape

import numpy as np
import streamlit as st

from core.pairs import errors_breakdown
from core.thumbnails import thumbnail_urls
from core.view_charts import errors_breakdown_chart
from ui import query
from ui.charts import kept_chart
from ui.grid import image_grid
from ui.state import require

EXAMPLES_SHOWN = 12
THUMBNAIL_ROWS = 50  # the table's first rows get their surest error's thumbnail
CHART_GUESSES = 15
# A transparent pixel for a missing thumbnail: an empty cell shows "None" in st.dataframe.
BLANK = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAA"
         "SUVORK5CYII=")

current = require()
cmp = current.comparison
names = cmp.class_names
index = {name: k for k, name in enumerate(names)}
query.defaults("by_guess")
query.keep_known("bg_guess", names)

st.title("By guess")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b}: each model's errors grouped by the "
           "class it guessed, with the true labels behind them.")

full = cmp.errors_by_guess()
table = full[(full["errors_a"] + full["errors_b"]) > 0].reset_index(drop=True)
total_a, total_b = int(table["errors_a"].sum()), int(table["errors_b"].sum())
st.markdown(f"## {total_a:,} errors  vs  {total_b:,} errors")


def _thumbnails(side: str) -> list[str]:
    """Per table row: the data URL of side's surest error guessing that class (BLANK when none)."""
    surest = cmp.surest_error_per_guess(side)[[index[n] for n in table["guess"][:THUMBNAIL_ROWS]]]
    urls = iter(thumbnail_urls(cmp.samples, surest[surest >= 0]))
    shown = [(next(urls) or BLANK) if r >= 0 else BLANK for r in surest]
    return shown + [BLANK] * (len(table) - len(shown))


def _per_guess_table() -> list[int]:
    """The per-guess table (with each side's surest error) and its chart; the selected rows."""
    shown = table.rename(columns={"guess": "guessed class", "errors_a": "errors A", "errors_b": "errors B",
                                  "b_minus_a": "B - A", "more_mistakes": "more mistakes"})
    config = {}
    if cmp.samples is not None:
        for side in ("a", "b"):
            shown[f"example_{side}"] = _thumbnails(side)
            config[f"example_{side}"] = st.column_config.ImageColumn(f"{side.upper()}'s surest error")
    st.markdown("**Per guessed class** (select a row to open its examples; classes without errors are left out)")
    picked = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun", row_height=40,
                          height=min(40 * (len(shown) + 1) + 4, 600), selection_mode="single-row",
                          key="bg_table", column_config=config)
    st.download_button("Download CSV", file_name="errors_by_guess.csv", data=lambda: full.to_csv(index=False),
                       mime="text/csv", on_click="ignore")
    top = [index[n] for n in table["guess"][:CHART_GUESSES]]
    title = "True labels behind each guessed class's errors"
    if len(table) > CHART_GUESSES:
        title += f" (the {CHART_GUESSES} guessed classes with the most errors)"
    st.markdown(f"**{title}**")
    kept_chart((current.key, "breakdown", tuple(top)), lambda: errors_breakdown_chart(
        errors_breakdown(cmp.errors_matrix("a"), cmp.errors_matrix("b"), names, top), [names[g] for g in top]),
        width="content")
    return picked.selection.rows


@st.fragment
def _guess_examples(selected: list[int]) -> None:
    """The chosen guessed class (table row or selectbox) with both sides' errors as images."""
    if selected and selected != st.session_state.get("_bg_picked"):
        st.session_state["bg_guess"] = table["guess"].iloc[selected[0]]
    st.session_state["_bg_picked"] = selected
    if not st.session_state["bg_guess"]:
        st.session_state["bg_guess"] = table["guess"].iloc[0]
    guess = st.selectbox("Guessed class", names, key="bg_guess", help="Type to search.")
    rows = {side: cmp.errors(side, guess=(index[guess],)) for side in ("a", "b")}
    st.markdown(f"### Guessed {guess}: {len(rows['a']):,} errors  vs  {len(rows['b']):,} errors")
    st.download_button("Download CSV of these examples", file_name=f"errors_guessed_{guess}.csv", mime="text/csv",
                       on_click="ignore", data=lambda: cmp.table(np.union1d(rows["a"], rows["b"])).to_csv(index=False))
    for col, side, label in zip(st.columns(2, border=True), ("a", "b"), ("A", "B")):
        with col:
            mine = rows[side]
            st.markdown(f"**{label}** guessed {guess} wrongly **{len(mine):,}** times"
                        + (f" (showing the {EXAMPLES_SHOWN} surest)" if len(mine) > EXAMPLES_SHOWN else ""))
            if not len(mine):
                st.caption("No such error.")
                continue
            conf = cmp.confidence(side)[mine]
            visible = mine[np.argsort(-conf, kind="stable")[:EXAMPLES_SHOWN]]
            captions = [f"truth {escape(names[t])} ({p:.0%})"
                        for t, p in zip(cmp.truth[visible], cmp.confidence(side)[visible])]
            image_grid(cmp.samples, visible, captions)
    query.sync("by_guess")


if total_a + total_b == 0:
    st.success("Neither model makes an error on these examples.")
else:
    _guess_examples(_per_guess_table())
