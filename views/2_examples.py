"""Examples: a compact table of the filtered examples (thumbnail, guesses, both score vectors),
and detailed cards with a top-k score chart for the rows selected in it.

The interactive part is one fragment: a filter, sort or page change reruns only it."""
import numpy as np
import pandas as pd
import streamlit as st

from core.comparison import SORTS, STATUS_FILTERS, STATUS_NAMES, ExampleFilter, page_count, page_of
from core.confusion import DENSE_UP_TO as MANY_CLASSES
from core.pairs import top_k_scores
from core.thumbnails import thumbnail_urls
from core.view_charts import topk_score_chart
from ui import query
from ui.series import dynamics_filter as series_filter
from ui.series import paths_of
from ui.state import require

MAX_CARDS = 5

current = require()
cmp = current.comparison
names = cmp.class_names
name_array = np.asarray(names, dtype=object)
index = {name: k for k, name in enumerate(names)}
query.defaults("examples")
for key in ("ex_truth", "ex_guess_a", "ex_guess_b"):
    query.keep_known(key, names)

st.title("Examples")
st.caption(f"**A** {current.label_a}  vs  **B** {current.label_b}: every example, with the scores of A (blue) "
           "and B (orange). Select rows in the table to see their scores in detail.")


def _filters() -> tuple[ExampleFilter, str, bool]:
    """The filter widgets; the filter, the sort key and its direction."""
    with st.container(border=True):
        c = st.columns(4)
        status = c[0].selectbox("Status", list(STATUS_FILTERS), format_func=STATUS_FILTERS.get, key="ex_status")
        truth = c[1].multiselect("True class", names, key="ex_truth", placeholder="any (type to search)")
        guess_a = c[2].multiselect("A's guess", names, key="ex_guess_a", placeholder="any (type to search)")
        guess_b = c[3].multiselect("B's guess", names, key="ex_guess_b", placeholder="any (type to search)")
        c = st.columns(4)
        conf_a = c[0].slider("A's confidence", 0.0, 1.0, step=0.01, key="ex_conf_a")
        conf_b = c[1].slider("B's confidence", 0.0, 1.0, step=0.01, key="ex_conf_b")
        id_text = c[2].text_input("Id contains", key="ex_id")
        sort = c[3].selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="ex_sort")
        descending = c[3].toggle("Largest first", key="ex_desc")
    flt = ExampleFilter(status, tuple(index[n] for n in truth), tuple(index[n] for n in guess_a),
                        tuple(index[n] for n in guess_b), tuple(conf_a), tuple(conf_b), id_text)
    return flt, sort, descending


def _sorted_rows(flt: ExampleFilter, sort: str, descending: bool) -> np.ndarray:
    """The filtered, sorted rows, kept for this session until the content, filter or sort changes."""
    key = (current.key, flt, sort, descending)
    memo = st.session_state.get("_ex_rows")
    if memo is None or memo[0] != key:
        memo = (key, cmp.sort(cmp.select(flt), sort, descending))
        st.session_state["_ex_rows"] = memo
    return memo[1]


def _score_bars(i: int, k: int) -> tuple[list[float], list[float]]:
    """The scores A's and B's table cells draw: every class when there are few, else the top-k
    of A and B and the truth (ordered by the larger score), so A's and B's bars line up."""
    if len(names) <= MANY_CLASSES:
        return cmp.a.scores[i].astype(float).round(4).tolist(), cmp.b.scores[i].astype(float).round(4).tolist()
    top = top_k_scores(cmp.a.scores[i], cmp.b.scores[i], int(cmp.truth[i]), names, k)
    shown = top.loc[~top["is_other"]]
    return shown["A"].round(4).tolist(), shown["B"].round(4).tolist()


def _table(visible: np.ndarray, k: int) -> pd.DataFrame:
    """The visible rows as the compact table (thumbnails only for these rows)."""
    t, ga, gb = cmp.truth[visible], cmp.guess_a[visible], cmp.guess_b[visible]
    bars = [_score_bars(i, k) for i in visible.tolist()]
    frame = pd.DataFrame({
        "id": cmp.ids[visible].astype(object),
        "truth": name_array[t],
        "A guess": [f"{n} {'✓' if r else '✗'}" for n, r in zip(name_array[ga], ga == t)],
        "A conf": cmp.confidence("a")[visible],
        "B guess": [f"{n} {'✓' if r else '✗'}" for n, r in zip(name_array[gb], gb == t)],
        "B conf": cmp.confidence("b")[visible],
        "status": [STATUS_NAMES[s].replace("_", " ") for s in cmp.status[visible].tolist()],
        "A scores": [a for a, _ in bars],
        "B scores": [b for _, b in bars],
    })
    if cmp.samples is not None:
        frame.insert(0, "image", thumbnail_urls(cmp.samples, visible, 48))
    if (paths := paths_of(cmp.ids, visible)) is not None:  # a series loaded on the Series page
        frame["path"] = paths
    return frame


COLUMNS = {
    "image": st.column_config.ImageColumn("image", width="small"),
    "A conf": st.column_config.NumberColumn("A conf", format="percent"),
    "B conf": st.column_config.NumberColumn("B conf", format="percent"),
    "A scores": st.column_config.BarChartColumn("A scores", y_min=0.0, y_max=1.0, color="#4c78a8"),
    "B scores": st.column_config.BarChartColumn("B scores", y_min=0.0, y_max=1.0, color="#f58518"),
}


def _card(i: int, k: int) -> None:
    """One example in detail: its image, both guesses, and the top-k score chart."""
    t, ga, gb = int(cmp.truth[i]), int(cmp.guess_a[i]), int(cmp.guess_b[i])
    with st.container(border=True):
        c = st.columns([1, 3, 6], vertical_alignment="center")
        url = thumbnail_urls(cmp.samples, np.array([i]), 96)[0]
        if url is not None:
            c[0].image(url, width=96)
        mark_a, mark_b = (":green[✓]" if ga == t else ":red[✗]"), (":green[✓]" if gb == t else ":red[✗]")
        c[1].markdown(
            f"**{cmp.ids[i]}** · {STATUS_NAMES[int(cmp.status[i])].replace('_', ' ')}  \n"
            f"truth **{names[t]}**  \n"
            f":blue[A] {names[ga]} ({cmp.confidence('a')[i]:.0%}) {mark_a}  \n"
            f":orange[B] {names[gb]} ({cmp.confidence('b')[i]:.0%}) {mark_b}")
        top = top_k_scores(cmp.a.scores[i], cmp.b.scores[i], t, names, k)
        c[2].altair_chart(topk_score_chart(top, "A", "B"), width="content")


@st.fragment
def _examples() -> None:
    """Filters, the count, paging, the table and the cards; reruns alone on any of its widgets."""
    flt, sort, descending = _filters()
    rows = _sorted_rows(flt, sort, descending)
    if (keep := series_filter(cmp.ids, "ex_dynamics")) is not None:  # a series loaded on the Series page
        rows = rows[keep[rows]]
    size = st.session_state["ex_size"]
    pages = page_count(len(rows), size)
    query.clamp_page("ex_page", pages, (flt, sort, descending, size))

    c = st.columns([3, 1, 1, 1, 2], vertical_alignment="bottom")
    c[0].markdown(f"### {len(rows):,} of {cmp.n:,} examples")
    c[1].selectbox("Per page", query.PAGE_SIZES, key="ex_size")
    c[2].number_input(f"Page (of {pages:,})", 1, pages, key="ex_page")
    k = int(c[3].number_input("Classes per chart", 1, max(len(names), 1), key="ex_k",
                              help="Each score chart shows the top classes of A and of B and the truth; "
                                   "the rest are summed as 'other'."))
    c[4].download_button(f"Download CSV ({len(rows):,} rows)", data=lambda: cmp.table(rows).to_csv(index=False),
                         file_name="examples.csv", mime="text/csv", on_click="ignore", disabled=not len(rows))
    if not len(rows):
        st.info("No example passes these filters; widen them (for example, set Status to All).")
        query.sync("examples")
        return
    page = st.session_state["ex_page"]
    visible = page_of(rows, page, size)
    first = (page - 1) * size
    st.caption(f"Showing {first + 1:,}-{first + len(visible):,} (ids {cmp.ids[visible[0]]} … {cmp.ids[visible[-1]]}). "
               "Bars: each model's scores "
               + ("per class, in class order." if len(names) <= MANY_CLASSES
                  else f"of its top {k} classes, A's and B's together, largest first."))
    picked = st.dataframe(_table(visible, k), hide_index=True, width="stretch", column_config=COLUMNS,
                          on_select="rerun", selection_mode="multi-row", row_height=52,
                          key=f"ex_table_{hash((flt, sort, descending, size, page)) & 0xFFFFFFFF:x}")
    chosen = [int(visible[r]) for r in picked.selection.rows if r < len(visible)][:MAX_CARDS]
    if not chosen:  # no chart until asked for: each one costs the browser a Vega render per click
        st.caption(f"Select rows in the table (up to {MAX_CARDS}) to see their images and score charts here.")
    for i in chosen:
        _card(i, k)
    query.sync("examples")


_examples()
