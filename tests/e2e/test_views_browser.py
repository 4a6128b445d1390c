"""The views in Chromium on the demo: what a new user tripped over is gone (one-line, mostly
uncoloured error captions; B - A coloured by better and
worse; bin counts in Calibration; both models visible), the Examples table and its cards, and a
view's link (the confusion cell and its switch) reopening the same view in a new session."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.e2e.browser import exceptions, wait_idle

CAPTIONS = '[data-testid="stMain"] .vs-cell > div'


def _go(page, server, path: str) -> None:
    page.goto(f"{server.url}/{path}")
    wait_idle(page)
    assert not exceptions(page), exceptions(page)


def test_errors_captions_are_one_line_and_only_wrong_marks_are_red(server, page, shot):
    _go(page, server, "errors")
    shot(page, "20_errors_captions")
    captions = page.locator(CAPTIONS)
    assert captions.count() > 0
    for k in range(min(captions.count(), 12)):
        box = captions.nth(k)
        style = box.evaluate("e => [getComputedStyle(e).whiteSpace, e.getBoundingClientRect().height, "
                             "parseFloat(getComputedStyle(e).lineHeight) || 16, getComputedStyle(e).color]")
        assert style[0] == "nowrap" and style[1] <= 1.6 * style[2], style  # one line
        assert style[3] not in ("rgb(207, 34, 46)", "rgb(255, 43, 43)"), style  # the caption itself is not red
    colors = page.locator(f"{CAPTIONS} span").evaluate_all("els => els.map(e => [e.innerText, getComputedStyle(e).color])")
    assert colors and all((text == "✗") == (color == "rgb(207, 34, 46)") for text, color in colors), colors


def test_confusion_shows_a_better_worse_change_chart(server, page, shot):
    _go(page, server, "confusion")
    shot(page, "22_confusion")  # B - A: green where B is better, red where worse, white where equal
    assert page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]').count() == 3
    assert page.get_by_text("where B is better", exact=False).count() == 1


def test_calibration_shows_bin_counts(server, page, shot):
    _go(page, server, "calibration")
    shot(page, "23_calibration")
    assert page.get_by_text("Examples per bin", exact=True).count() == 1


def test_examples_table_without_a_chart_per_row(server, page, shot, demo_view_pair):
    _go(page, server, "examples")
    shot(page, "24_examples_table")
    a, b = demo_view_pair
    assert a.scores.max(axis=1).mean() > 0.3  # epoch 2's bars are visible beside epoch 5's
    assert page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').count() == 1
    assert page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]').count() == 0  # until selected
    charts = page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]')
    for _ in range(3):  # a click that lands while the canvas grid is still laying out selects nothing
        grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first.bounding_box()
        page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 26)  # the first row's selection box (canvas grid)
        wait_idle(page)
        if charts.count():
            break
        page.wait_for_timeout(500)
    shot(page, "26_examples_card")
    assert charts.count() == 1  # its top-k chart
    first = page.get_by_text("Showing 1-10 (ids ", exact=False).inner_text().split("(ids ")[1].split(" …")[0]
    assert page.locator('[data-testid="stMain"] strong').filter(has_text=first).count() >= 1


def test_confusion_link_reopens_cell_and_switch(server, page, browser, shot):
    _go(page, server, "confusion?cell_truth=3&cell_guess=8&cf_norm=1")
    params = parse_qs(urlparse(page.url).query)
    assert params["cell_truth"] == ["3"] and params["cell_guess"] == ["8"] and params["cf_norm"] == ["1"]
    assert params["a_folder"] == ["demo"] and params["b_folder"] == ["demo"]  # no cache path in links
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        again = other.new_page()
        again.set_default_timeout(120_000)
        again.goto(page.url)
        wait_idle(again)
        shot(again, "25_confusion_from_link")
        assert again.get_by_text("Examples: truth 3, guess 8", exact=True).count() == 1
        assert again.locator('[data-testid="stMain"] [data-testid="stCheckbox"] input').first.is_checked()
        assert not exceptions(again)
    finally:
        other.close()
