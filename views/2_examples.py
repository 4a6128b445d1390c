"""Examples: one row per example with its image, truth, both guesses and both score histograms."""
import numpy as np
import streamlit as st

from core.charts import HIST_MODES, score_histogram
from core.comparison import SORTS, STATUS_FILTERS, ExampleFilter, page_count, page_of
from core.thumbnails import thumbnail_urls
from ui import query
from ui.series import dynamics_filter as series_filter
from ui.state import require

current = require()
cmp = current.comparison
names = cmp.class_names
index = {name: k for k, name in enumerate(names)}
query.defaults("examples")
for key in ("ex_truth", "ex_guess_a", "ex_guess_b"):
    query.keep_known(key, names)

st.title("Examples")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b}: every example, "
           "with the per-class scores of A (blue) and B (orange); the true class is shaded green.")

with st.container(border=True):
    c = st.columns(4)
    status = c[0].selectbox("Status", list(STATUS_FILTERS), format_func=STATUS_FILTERS.get, key="ex_status")
    truth = c[1].multiselect("True class", names, key="ex_truth", placeholder="any")
    guess_a = c[2].multiselect("A's guess", names, key="ex_guess_a", placeholder="any")
    guess_b = c[3].multiselect("B's guess", names, key="ex_guess_b", placeholder="any")
    c = st.columns(4)
    conf_a = c[0].slider("A's confidence", 0.0, 1.0, step=0.01, key="ex_conf_a")
    conf_b = c[1].slider("B's confidence", 0.0, 1.0, step=0.01, key="ex_conf_b")
    id_text = c[2].text_input("Id contains", key="ex_id")
    sort = c[3].selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="ex_sort")
    descending = c[3].toggle("Largest first", key="ex_desc")

flt = ExampleFilter(status, tuple(index[n] for n in truth), tuple(index[n] for n in guess_a),
                    tuple(index[n] for n in guess_b), tuple(conf_a), tuple(conf_b), id_text)


def _sorted_rows() -> np.ndarray:
    """The filtered, sorted rows, kept for this session until the filter or sort changes."""
    key = (current.key, flt, sort, descending)
    memo = st.session_state.get("_ex_rows")
    if memo is None or memo[0] != key:
        memo = (key, cmp.sort(cmp.select(flt), sort, descending))
        st.session_state["_ex_rows"] = memo
    return memo[1]


rows = _sorted_rows()
if (keep := series_filter(cmp.ids, "ex_dynamics")) is not None:  # a series loaded on the Series page
    rows = rows[keep[rows]]
size = st.session_state["ex_size"]
pages = page_count(len(rows), size)
query.clamp_page("ex_page", pages, (flt, sort, descending, size))

c = st.columns([3, 1, 1, 1, 2], vertical_alignment="bottom")
c[0].markdown(f"### {len(rows):,} of {cmp.n:,} examples")
c[1].selectbox("Per page", query.PAGE_SIZES, key="ex_size")
c[2].number_input(f"Page (of {pages})", 1, pages, key="ex_page")
c[3].radio("Histogram", HIST_MODES, key="ex_hist", format_func=str.capitalize)
c[4].download_button(f"Download CSV ({len(rows):,} rows)", data=lambda: cmp.table(rows).to_csv(index=False),
                     file_name="examples.csv", mime="text/csv", on_click="ignore", disabled=not len(rows))


def _cards(visible: np.ndarray) -> None:
    """One bordered row per visible example: thumbnail, guesses, and both score histograms."""
    urls = thumbnail_urls(cmp.samples, visible)
    status_names = cmp.status_names()
    for i, url in zip(visible.tolist(), urls):
        t, ga, gb = cmp.truth[i], cmp.guess_a[i], cmp.guess_b[i]
        with st.container(border=True):
            c = st.columns([1, 3, 6], vertical_alignment="center")
            if url is None:
                c[0].caption("(no image)")
            else:
                c[0].image(url, width=64)
            mark_a, mark_b = (":green[✓]" if ga == t else ":red[✗]"), (":green[✓]" if gb == t else ":red[✗]")
            c[1].markdown(
                f"**{cmp.ids[i]}** · {status_names[i].replace('_', ' ')}  \n"
                f"truth **{names[t]}**  \n"
                f":blue[A] {names[ga]} ({cmp.confidence('a')[i]:.0%}) {mark_a}  \n"
                f":orange[B] {names[gb]} ({cmp.confidence('b')[i]:.0%}) {mark_b}"
            )
            c[2].altair_chart(score_histogram(cmp.a.scores[i], cmp.b.scores[i], int(t), names, "A", "B",
                                              mode=st.session_state["ex_hist"]), width="content")


if not len(rows):
    st.info("No example passes these filters; widen them (for example, set Status to All).")
else:
    visible = page_of(rows, st.session_state["ex_page"], size)
    first = (st.session_state["ex_page"] - 1) * size
    st.caption(f"Showing {first + 1:,}-{first + len(visible):,}.")
    _cards(visible)
