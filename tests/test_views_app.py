"""The Examples, Errors and By guess pages driven through AppTest on the embedded demo."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ui.grid import CELL

EXAMPLES, ERRORS, BY_GUESS = "views/2_examples.py", "views/3_errors.py", "views/4_by_guess.py"


_DEFERRED: dict[str, object] = {}


@pytest.fixture(autouse=True)
def _keep_download_callables(monkeypatch):
    """Remember each download button's deferred data callable by its file id."""
    add = MediaFileManager.add_deferred

    def recording(self, data_callable, *args, **kwargs):
        file_id = add(self, data_callable, *args, **kwargs)
        _DEFERRED[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)


@pytest.fixture(scope="module")
def demo(demo_view_pair) -> pd.DataFrame:
    """The demo comparison as the app opens it (epoch 2 vs 5): truth, both guesses and confidences."""
    a, b = demo_view_pair
    return pd.DataFrame({"id": a.ids.astype(object), "truth": a.truth, "ga": a.scores.argmax(1), "gb": b.scores.argmax(1),
                         "cb": b.scores.max(1)})


def _open(page: str | None = None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    if params:
        at.query_params = dict(params)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _headline(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(("### ", "## ")))


def _csv(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The CSV a download button would hand over (its deferred data callable, run here)."""
    file_id = at.download_button[index].proto.deferred_file_id
    data = _DEFERRED[file_id]()
    return pd.read_csv(io.StringIO(data), dtype={"id": str, "truth": str, "guess_a": str, "guess_b": str})


def _card_ids(at: AppTest) -> list[str]:
    """The ids in the Examples table (the visible page)."""
    return at.dataframe[0].value["id"].tolist() if at.dataframe else []


def _cells(at: AppTest) -> list[str]:
    """The captions of every image-grid cell on the page, in order."""
    return [cell.split('">', 2)[-1] for m in at.markdown for cell in m.value.split(f'class="{CELL}"')[1:]]


def test_examples_default_filter_change_pagination_csv_and_link(demo):
    at = _open(EXAMPLES)
    assert at.sidebar.selectbox(key="a_kind").value == "Epoch folder"  # reached through app.py
    n_disagree = int((demo.ga != demo.gb).sum())
    assert _headline(at) == f"### {n_disagree} of 540 examples"
    assert at.selectbox(key="ex_status").value == "disagree"
    assert len(_card_ids(at)) == min(10, n_disagree)

    at.selectbox(key="ex_status").set_value("fixed").run()
    fixed = demo[(demo.ga != demo.truth) & (demo.gb == demo.truth)]
    assert _headline(at) == f"### {len(fixed)} of 540 examples"
    assert set(_card_ids(at)) <= set(fixed.id)
    csv = _csv(at)
    assert sorted(csv.id) == sorted(fixed.id)
    assert set(csv.status) == {"fixed"}
    assert (csv.truth == csv.guess_b).all() and (csv.truth != csv.guess_a).all()
    assert {f"score_a_{k}" for k in range(10)} | {f"score_b_{k}" for k in range(10)} <= set(csv.columns)

    at.selectbox(key="ex_status").set_value("all").run()
    at.selectbox(key="ex_sort").set_value("id").run()
    at.number_input(key="ex_page").set_value(3).run()
    assert any(c.value.startswith("Showing 21-30 (ids ") for c in at.caption)
    assert _card_ids(at) == sorted(demo.id)[20:30]

    at.multiselect(key="ex_truth").set_value(["3"]).run()  # a filter change goes back to page 1
    assert at.number_input(key="ex_page").value == 1
    assert _headline(at) == f"### {int((demo.truth == 3).sum())} of 540 examples"
    at.slider(key="ex_conf_b").set_value((0.9, 1.0)).run()
    expected = demo[(demo.truth == 3) & (demo.cb >= 0.9)].id
    assert _headline(at) == f"### {len(expected)} of 540 examples"

    link = dict(at.query_params)
    assert link["page"] == "examples" and link["ex_status"] == "all" and link["ex_truth"] == "3"
    assert link["a_folder"] == link["b_folder"] == "demo"  # the demo is named, not a cache path
    again = _open(params=link)
    assert again.title[0].value == "Examples"
    assert _headline(again) == _headline(at)
    assert again.slider(key="ex_conf_b").value == (0.9, 1.0)
    assert again.selectbox(key="ex_sort").value == "id"
    assert _card_ids(again) == _card_ids(at) == sorted(expected)[:10]


def test_examples_empty_filter_says_so():
    at = _open(EXAMPLES)
    at.text_input(key="ex_id").set_value("no such id").run()
    assert _headline(at) == "### 0 of 540 examples"
    assert any("No example passes these filters" in i.value for i in at.info)
    assert at.download_button[0].proto.disabled
    assert at.query_params["ex_id"] == "no such id"  # the link still records the filter


def test_errors_counts_filters_and_link(demo):
    at = _open(ERRORS)
    errors_a, errors_b = int((demo.ga != demo.truth).sum()), int((demo.gb != demo.truth).sum())
    assert _headline(at) == f"## {errors_a} errors  vs  {errors_b} errors"
    assert errors_a > errors_b

    at.multiselect(key="er_truth").set_value(["8", "9"]).run()
    sub = demo[demo.truth.isin([8, 9])]
    assert _headline(at) == f"## {int((sub.ga != sub.truth).sum())} errors  vs  {int((sub.gb != sub.truth).sum())} errors"
    at.selectbox(key="er_other").set_value("right").run()
    fixed = sub[(sub.ga != sub.truth) & (sub.gb == sub.truth)]
    regressed = sub[(sub.gb != sub.truth) & (sub.ga == sub.truth)]
    assert _headline(at) == f"## {len(fixed)} errors  vs  {len(regressed)} errors"
    csv = _csv(at)
    assert sorted(csv[csv.model == "A"].id) == sorted(fixed.id)
    assert sorted(csv[csv.model == "B"].id) == sorted(regressed.id)
    cells = _cells(at)
    assert len(cells) == min(len(fixed), 24) + min(len(regressed), 24)
    assert all("✓" in c and "✗" not in c for c in cells)  # the other model got each of them right
    assert not any(m.value.startswith(":red[") for m in at.markdown)  # captions are not all red

    again = _open(params=dict(at.query_params))
    assert again.title[0].value == "Errors"
    assert _headline(again) == _headline(at)
    assert again.multiselect(key="er_truth").value == ["8", "9"]


def test_errors_pagination(demo):
    at = _open(ERRORS)
    errors_a = int((demo.ga != demo.truth).sum())
    pages = -(-errors_a // 24)
    at.number_input(key="er_page").set_value(pages).run()
    red = _cells(at)
    left_a = errors_a - 24 * (pages - 1)
    left_b = max(0, int((demo.gb != demo.truth).sum()) - 24 * (pages - 1))
    assert len(red) == left_a + min(left_b, 24)


def test_by_guess_table_selection_csv_and_link(demo):
    at = _open(BY_GUESS)
    table = at.dataframe[0].value.set_index("guessed class")
    for col, g in (("errors A", "ga"), ("errors B", "gb")):
        wrong = demo[demo[g] != demo.truth]
        expected = np.bincount(wrong[g], minlength=10)
        assert [int(table[col].get(str(k), 0)) for k in range(10)] == expected.tolist()
    assert ((table["errors A"] + table["errors B"]) > 0).all()  # no empty row
    for side in ("a", "b"):  # no missing image cell (st.dataframe shows "None" for one)
        assert all(isinstance(u, str) and u.startswith("data:image/png") for u in table[f"example_{side}"])
    more = np.where(table["errors A"] > table["errors B"], "A", np.where(table["errors B"] > table["errors A"], "B", "same"))
    assert (table["more mistakes"] == more).all()
    top = table.index[0]
    assert at.selectbox(key="bg_guess").value == top  # the guess with the most errors opens first

    at.selectbox(key="bg_guess").set_value("8").run()
    wrong_a = demo[(demo.ga == 8) & (demo.truth != 8)]
    wrong_b = demo[(demo.gb == 8) & (demo.truth != 8)]
    assert any(m.value == f"### Guessed 8: {len(wrong_a)} errors  vs  {len(wrong_b)} errors" for m in at.markdown)
    per_guess = _csv(at, 0)
    assert per_guess.set_index("guess").loc[8, "errors_a"] == len(wrong_a)
    examples = _csv(at, 1)
    assert sorted(examples.id) == sorted(set(wrong_a.id) | set(wrong_b.id))

    again = _open(params=dict(at.query_params))
    assert again.title[0].value == "By guess"
    assert again.selectbox(key="bg_guess").value == "8"


def test_link_with_unknown_page_classes_and_settings_is_ignored_with_notices():
    at = _open(params={"page": "nowhere", "ex_status": "sideways", "bogus": "1"})
    notes = " ".join(w.value for w in at.warning)
    assert "page that does not exist ('nowhere')" in notes
    assert "ex_status=sideways" in notes and "bogus=1" in notes
    assert at.title[0].value == "Overview"

    at = _open(params={"page": "examples", "ex_truth": ["3", "zebra"], "ex_page": "999"})
    assert at.title[0].value == "Examples"
    assert any("'zebra'" in w.value for w in at.warning)
    assert at.multiselect(key="ex_truth").value == ["3"]
    assert at.number_input(key="ex_page").value == 1  # past the last page: clamped
