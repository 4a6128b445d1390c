"""By guess: errors grouped by guessed class, A and B side by side, each group opening its examples."""
import numpy as np
import streamlit as st

from core.charts import truth_distribution
from core.thumbnails import thumbnail_urls
from ui import query
from ui.grid import image_grid
from ui.state import require

EXAMPLES_SHOWN = 12

current = require()
cmp = current.comparison
names = cmp.class_names
index = {name: k for k, name in enumerate(names)}
query.defaults("by_guess")
query.keep_known("bg_guess", names)

st.title("By guess")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b}: each model's errors grouped by the "
           "class it guessed, with the true labels behind them.")

table = cmp.errors_by_guess()
total_a, total_b = int(table["errors_a"].sum()), int(table["errors_b"].sum())
st.markdown(f"## {total_a:,} errors  vs  {total_b:,} errors")


def _per_guess_table() -> list[int]:
    """The per-guess table (with each side's surest error) and its chart; the selected rows."""
    for side in ("a", "b"):
        surest = cmp.surest_error_per_guess(side)[[index[n] for n in table["guess"]]]
        urls = iter(thumbnail_urls(cmp.samples, surest[surest >= 0]))
        table[f"example_{side}"] = [next(urls) if r >= 0 else None for r in surest]
    shown = table.rename(columns={"guess": "guessed class", "errors_a": "errors A", "errors_b": "errors B",
                                  "b_minus_a": "B - A", "more_mistakes": "more mistakes"})
    st.markdown("**Per guessed class** (select a row to open its examples)")
    picked = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun", row_height=40,
                          height=min(40 * (len(shown) + 1) + 24, 600),
                          selection_mode="single-row", key="bg_table", column_config={
                              "example_a": st.column_config.ImageColumn("A's surest error"),
                              "example_b": st.column_config.ImageColumn("B's surest error")})
    st.download_button("Download CSV", file_name="errors_by_guess.csv",
                       data=lambda: table.drop(columns=["example_a", "example_b"]).to_csv(index=False),
                       mime="text/csv", on_click="ignore")
    st.markdown("**True labels behind each guessed class's errors**")
    st.altair_chart(truth_distribution(cmp.errors_matrix("a"), cmp.errors_matrix("b"), names, "A", "B",
                                       guesses=table["guess"].tolist(), width=360), width="content")
    return picked.selection.rows


def _guess_examples(selected: list[int]) -> None:
    """The chosen guessed class (table row or selectbox) with both sides' errors as images."""
    if selected and selected != st.session_state.get("_bg_picked"):
        st.session_state["bg_guess"] = table["guess"].iloc[selected[0]]
    st.session_state["_bg_picked"] = selected
    if not st.session_state["bg_guess"]:
        st.session_state["bg_guess"] = table["guess"].iloc[0]
    guess = st.selectbox("Guessed class", names, key="bg_guess")
    rows = {side: cmp.errors(side, guess=(index[guess],)) for side in ("a", "b")}
    st.markdown(f"### Guessed {guess}: {len(rows['a']):,} errors  vs  {len(rows['b']):,} errors")
    st.download_button("Download CSV of these examples", file_name=f"errors_guessed_{guess}.csv", mime="text/csv",
                       on_click="ignore", data=lambda: cmp.table(np.union1d(rows["a"], rows["b"])).to_csv(index=False))
    for col, side, label in zip(st.columns(2, border=True), ("a", "b"), ("A", "B")):
        with col:
            mine = rows[side]
            st.markdown(f"**{label}** guessed {guess} wrongly **{len(mine):,}** times"
                        + (f" (showing {EXAMPLES_SHOWN})" if len(mine) > EXAMPLES_SHOWN else ""))
            if not len(mine):
                st.caption("No such error.")
                continue
            visible = mine[:EXAMPLES_SHOWN]
            conf = cmp.confidence(side)[visible]
            captions = [f"truth {names[t]} ({p:.0%})" for t, p in zip(cmp.truth[visible], conf)]
            image_grid(cmp.samples, visible, captions, columns=4, colors=["red"] * len(visible), px=72)


if total_a + total_b == 0:
    st.success("Neither model makes an error on these examples.")
else:
    _guess_examples(_per_guess_table())
