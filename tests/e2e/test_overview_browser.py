"""The demo in a real browser: Overview numbers, every page, another epoch for B."""
from __future__ import annotations

from core.comparison import Comparison
from core.summary import summarize
from tests.e2e.browser import choose, errors, exceptions, go, metrics, wait_idle


def test_demo_opens_on_overview_with_the_cli_numbers(server, page, shot, demo_view_pair):
    page.goto(server.url)
    wait_idle(page)
    shot(page, "01_overview_demo")
    summary = summarize(Comparison.build(*demo_view_pair), "a", "b")
    shown = metrics(page)
    assert shown["Accuracy A"] == f"{summary['a']['accuracy']:.2%}"
    assert shown["Accuracy B"] == f"{summary['b']['accuracy']:.2%}"
    assert shown["Fixed (A wrong, B right)"] == str(summary["fixed"])
    assert shown["Regressed (A right, B wrong)"] == str(summary["regressed"])
    assert not exceptions(page) and not errors(page)


def test_every_page_opens_without_exception(server, page, shot):
    page.goto(server.url)
    wait_idle(page)
    links = page.locator('[data-testid="stSidebarNavLink"]')
    names = [links.nth(i).inner_text().strip() for i in range(links.count())]
    assert len(names) >= 1
    for k, name in enumerate(names):
        go(page, name)
        shot(page, f"02_page_{k + 1}_{name.lower().replace(' ', '_')}")
        assert not exceptions(page), (name, exceptions(page))
        assert not errors(page), (name, errors(page))


def test_choosing_another_epoch_for_b_changes_the_numbers(server, page, shot):
    page.goto(server.url)
    wait_idle(page)
    before = metrics(page)["Accuracy B"]
    choose(page, "Checkpoint", "epoch_3.pt", nth=1)
    shot(page, "03_overview_b_epoch_3")
    after = metrics(page)["Accuracy B"]
    assert after != before and not exceptions(page)
