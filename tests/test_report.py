"""report.html: written by the CLI, self-contained, and rendered by headless Chromium with every
network request blocked (the Vega-Lite views draw, the verdict and thumbnails show)."""
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import make_predictions
from core.cli import main
from core.comparison import REGRESSED, Comparison
from core.report import TOP_REGRESSIONS, build_report, top_regressions
from core.summary import summarize
from core.verdict import verdict

CHART_IDS = ["confusion-a", "confusion-b", "confusion-diff", "roc", "pr", "reliability"]


@pytest.fixture(scope="module")
def cli_report(demo_paths, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["compare", "--a", str(demo_paths[0]), "--b", str(demo_paths[-1]), "--data", "digits",
                 "--out", str(out)]) == 0
    return out


def _open_offline(browser, path: Path):
    """Open a local file with every request that is not file: or data: aborted; returns the page
    and the list of URLs that were blocked."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    blocked = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page, blocked


def test_cli_report_opens_offline_and_renders(cli_report, browser):
    summary = json.loads((cli_report / "summary.json").read_text())
    page, blocked = _open_offline(browser, cli_report / "report.html")
    selector = " && ".join(f"document.querySelector('#{c} svg, #{c} canvas')" for c in CHART_IDS)
    page.wait_for_function(f"!!({selector})", timeout=60_000)
    for chart_id in CHART_IDS:
        # a drawn Vega view: marks inside an svg, not an error message
        assert page.locator(f"#{chart_id} svg .mark-rect, #{chart_id} svg .mark-line, "
                            f"#{chart_id} svg .mark-symbol").count() > 0, chart_id
        assert "Chart failed" not in page.inner_text(f"#{chart_id}")
    text = page.inner_text("#verdict")
    assert text == verdict(summary).text and text.startswith("B is more accurate")
    thumbs = page.locator("img.thumb")
    assert thumbs.count() == min(summary["regressed"], TOP_REGRESSIONS) > 0
    assert page.evaluate("[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)")
    assert "Per class" in page.inner_text("body")
    assert blocked == []
    page.close()


def test_cli_summary_fields(cli_report):
    summary = json.loads((cli_report / "summary.json").read_text())
    for side in ("a", "b"):
        assert 0 <= summary[side]["ece"] <= 1 and 0 <= summary[side]["brier"] <= 2
    for key in ("accuracy", "macro_f1"):
        low, high = summary["delta"][key]["ci95"]
        assert low <= summary["delta"][key]["value"] <= high
    assert 0 <= summary["mcnemar"]["p_value"] <= 1 and summary["mcnemar"]["statistic"] >= 0


def test_report_has_no_remote_references(cli_report):
    html = (cli_report / "report.html").read_text()
    for tag in ("<script src", "<link ", "<img src='http", "@import"):
        assert tag not in html
    assert html.count("vegaEmbed(") >= 1 and "window.vegaEmbed" in html


def test_hostile_class_names_and_no_images(browser, tmp_path):
    names = ["</script><b>x", "a & b", "<img src=x>"]
    a = make_predictions(120, 3, seed=41, skill=1.0, names=names)
    b = make_predictions(120, 3, seed=42, skill=0.5, names=names, truth=a.truth)
    cmp = Comparison.build(a, b)
    html = build_report(cmp, summarize(cmp, "a <1>", "b"))
    assert "<b>x" not in html.split("<script>")[0] and "a &lt;1&gt;" in html
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    page, blocked = _open_offline(browser, tmp_path / "r.html")
    page.wait_for_function("!!document.querySelector('#reliability svg')", timeout=60_000)
    assert page.locator("#confusion-a svg").count() == 1
    assert "</script><b>x" in page.inner_text("body")  # shown as text, not markup
    assert page.locator("img.thumb").count() == 0 and blocked == []
    page.close()


def test_top_regressions_are_regressed_and_most_confident_first():
    a = make_predictions(500, 4, seed=43, skill=2.0)
    b = make_predictions(500, 4, seed=44, skill=1.0, truth=a.truth)
    cmp = Comparison.build(a, b)
    rows = top_regressions(cmp, k=10)
    regressed = np.flatnonzero(a.correct & ~b.correct)
    assert len(rows) == 10 and set(rows) <= set(regressed) and (cmp.status[rows] == REGRESSED).all()
    conf = b.scores[rows, b.guess[rows]]
    assert np.all(np.diff(conf) <= 0)
    assert conf[-1] >= np.sort(b.scores[regressed, b.guess[regressed]])[-10]

