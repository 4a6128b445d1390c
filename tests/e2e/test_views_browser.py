"""The views in Chromium on the demo: what a new user tripped over is gone (one-line, mostly
uncoloured error captions; B - A coloured by better and
worse; bin counts in Calibration; both models visible), the Examples table and its cards, and a
view's link (the confusion cell and its switch) reopening the same view in a new session."""
from __future__ import annotations

import json

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


def test_confusion_change_is_green_for_better_and_red_for_worse(server, page, shot):
    _go(page, server, "confusion")
    shot(page, "22_confusion")
    specs = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .map(e => e.innerText)""")
    assert len(specs) == 3
    assert page.get_by_text("Green", exact=False).count() >= 1
    legend = page.locator('[data-testid="stVegaLiteChart"]').nth(2)
    assert "B better / worse" in legend.inner_text()


def test_calibration_shows_bin_counts(server, page, shot):
    _go(page, server, "calibration")
    shot(page, "23_calibration")
    assert page.get_by_text("Examples per bin", exact=True).count() == 1


def test_examples_table_cards_and_both_models_visible(server, page, shot, demo_view_pair):
    _go(page, server, "examples")
    shot(page, "24_examples_table")
    a, b = demo_view_pair
    assert a.scores.max(axis=1).mean() > 0.3  # epoch 2's bars are visible beside epoch 5's
    assert page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').count() == 1
    assert page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]').count() == 1  # one card


def test_confusion_link_reopens_cell_and_switch(server, page, browser, shot):
    _go(page, server, "confusion?cell_truth=3&cell_guess=8&cf_norm=1")
    assert "cell_truth=3" in page.url and "cf_norm=1" in page.url
    assert "a_folder=demo" in page.url and "/cache" not in page.url.split("?", 1)[1]
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        again = other.new_page()
        again.set_default_timeout(120_000)
        again.goto(page.url)
        wait_idle(again)
        shot(again, "25_confusion_from_link")
        assert again.get_by_text("Examples: truth 3, guess 8", exact=True).count() == 1
        toggle = again.get_by_role("switch").first
        assert json.loads(toggle.get_attribute("aria-checked") or "false") is True
    finally:
        other.close()
