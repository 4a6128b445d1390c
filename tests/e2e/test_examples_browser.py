"""The Examples page in a real browser: a filter changes the count, the CSV download holds the
filtered rows, and the page's URL reopens the same view in a new session."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from tests.e2e.browser import choose, exceptions, wait_idle


def _headline(page) -> str:
    return page.locator('[data-testid="stMain"] h3').filter(has_text=" examples").first.inner_text().strip()


def test_filter_download_and_shared_link(server, page, browser, shot, demo_view_pair):
    a, b = demo_view_pair
    ga, gb = a.scores.argmax(1), b.scores.argmax(1)
    n = len(a.ids)
    regressed = set(a.ids[(ga == a.truth) & (gb != a.truth)].astype(object))

    page.goto(f"{server.url}/examples")
    wait_idle(page)
    shot(page, "09_examples_default")
    assert _headline(page) == f"{int((ga != gb).sum())} of {n} examples"
    assert not exceptions(page)

    choose(page, "Status", "Regressed (A right, B wrong)", in_sidebar=False)
    shot(page, "10_examples_regressed")
    assert _headline(page) == f"{len(regressed)} of {n} examples"

    with page.expect_download() as info:
        page.get_by_role("button", name=f"Download CSV ({len(regressed)} rows)").click()
    frame = pd.read_csv(io.StringIO(open(info.value.path()).read()))
    assert len(frame) == len(regressed) and set(frame["id"].astype(str)) == regressed
    row = frame.iloc[0]
    k = int(np.flatnonzero(a.ids.astype(object) == str(row["id"]))[0])
    assert str(row["truth"]) == a.class_names[a.truth[k]]

    link = page.url
    assert "ex_status=regressed" in link and "page=examples" in link
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        again = other.new_page()
        again.set_default_timeout(120_000)
        again.goto(link)
        wait_idle(again)
        shot(again, "11_examples_from_link")
        assert _headline(again) == f"{len(regressed)} of {n} examples"
        assert not exceptions(again)
    finally:
        other.close()
