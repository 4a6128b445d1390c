"""Browser latency of the views, measured in Debian's Chromium against a real server.

For the 540-example demo and generated 100k and 1M-row Parquet prediction files (10 classes):
p50/p95 seconds from a filter, page or sort change on Examples to a settled page (the new
content on screen and the script idle), and of page switches. Plus the cold start: a server on
an empty cache, launch to the Overview's numbers on screen.
Targets: p95 < 0.5 s per interaction at 1M rows; cold start < 30 s (2 cores).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = tuple(int(x) for x in os.environ.get("LATENCY_SIZES", "100000,1000000").split(","))
CLASSES = 10
REPEATS = int(os.environ.get("LATENCY_REPEATS", "12"))  # more gives a steadier p95
PAGES = ("Overview", "Examples", "Errors", "By guess", "Confusion", "Curves", "Calibration")
STATUSES = ("All", "Fixed (A wrong, B right)", "Regressed (A right, B wrong)", "Both wrong", "A and B disagree")
FILE_KIND = "Predictions file (CSV/Parquet)"
TEXT = "(sel) => Array.from(document.querySelectorAll(sel)).map(e => e.innerText.trim()).join('|')"
SETTLED = """([marker, before]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
    const now = Array.from(document.querySelectorAll(marker)).map(e => e.innerText.trim()).join('|');
    return now !== '' && now !== before;
}"""
HEADLINE = '[data-testid="stMain"] h3'
SHOWING = '[data-testid="stMain"] [data-testid="stCaptionContainer"]'


def write_pair(folder: Path, n: int) -> tuple[Path, Path]:
    """Two Parquet prediction files (id, truth, score_0..9) of the same n examples, B more skilled."""
    rng = np.random.default_rng(n)
    truth = rng.integers(0, CLASSES, n)
    paths = []
    for side, skill in (("a", 1.0), ("b", 2.5)):
        logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
        logits[np.arange(n), truth] += skill
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        scores = e / e.sum(axis=1, keepdims=True)
        cols = {"id": [f"ex{i}" for i in range(n)], "truth": truth}
        cols |= {f"score_{k}": scores[:, k] for k in range(CLASSES)}
        paths.append(folder / f"{side}_{n}.parquet")
        pd.DataFrame(cols).to_parquet(paths[-1])
    return paths[0], paths[1]


def _text(page, selector: str) -> str:
    """The texts of every element matching selector, joined (what SETTLED compares)."""
    return page.evaluate(TEXT, selector)


def _timed(page, action, marker: str) -> float:
    """Seconds from action() to marker's text changing with the script idle and nothing loading."""
    before = _text(page, marker)
    t0 = time.perf_counter()
    action()
    page.wait_for_function(SETTLED, arg=[marker, before], polling="raf", timeout=60_000)
    return time.perf_counter() - t0


def _pick(page, label: str, option: str):
    """Open the main area's selectbox labelled label (not timed: the list opens in the browser);
    return the click on option, the user's action that is timed."""
    box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True)).first
    box.locator("input").click()
    item = page.get_by_role("option", name=option, exact=True).first
    item.wait_for(state="visible")
    return item.click


def _open_files(page, a: Path, b: Path) -> None:
    """Point both sidebar sources at the Parquet files (through the widgets, as a user would)."""
    from tests.e2e.browser import choose, wait_idle

    for nth, path in enumerate((a, b)):
        choose(page, "Source", FILE_KIND, nth=nth)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').filter(
            has=page.get_by_text("Predictions file", exact=True)).nth(nth)
        box.locator("input").fill(str(path))
        box.locator("input").press("Enter")
        wait_idle(page, timeout=600_000)


def _examples_latency(page) -> dict[str, list[float]]:
    """Seconds of REPEATS filter, page and sort changes on the Examples page."""
    from tests.e2e.browser import go, wait_idle

    go(page, "Examples", timeout=600_000)
    out: dict[str, list[float]] = {"filter": [], "page": [], "sort": []}
    for k in range(REPEATS):
        out["filter"].append(_timed(page, _pick(page, "Status", STATUSES[k % len(STATUSES)]), HEADLINE))
    _pick(page, "Status", "All")()
    wait_idle(page)
    box = page.locator('[data-testid="stMain"] [data-testid="stNumberInput"]').filter(
        has=page.get_by_text("Page (of", exact=False)).first.locator("input")

    def next_page(k: int):
        def go() -> None:
            box.fill(str(k + 2))
            box.press("Enter")
        return go

    for k in range(REPEATS):
        out["page"].append(_timed(page, next_page(k), SHOWING))
    toggle = page.locator('[data-testid="stMain"]').get_by_text("Largest first", exact=True).first
    for _ in range(REPEATS):
        out["sort"].append(_timed(page, toggle.click, SHOWING))
    return out


def _switch_latency(page) -> dict[str, list[float]]:
    """Seconds of switching to each page in turn, to its title on screen, idle: the first visit
    (the page computes its aggregates once per comparison) and two visits after that."""
    from tests.e2e.browser import nav_link

    out: dict[str, list[float]] = {"page switch, first visit": [], "page switch, again": []}
    seen: set[str] = {_text(page, "h1"), "Overview"}  # the page opened on, and the first page drawn
    for name in PAGES[1:] + PAGES + PAGES:
        link = nav_link(page, name)
        if _text(page, "h1") == name:
            continue
        out["page switch, again" if name in seen else "page switch, first visit"].append(
            _timed(page, link.click, "h1"))
        seen.add(name)
    return out


def cold_start(browser, root: Path) -> float:
    """Seconds from launching a server on an empty cache to the Overview's accuracy on screen."""
    from tests.e2e.browser import Server

    cache = Path(tempfile.mkdtemp(prefix="cold-", dir=root))
    t0 = time.perf_counter()
    server = Server(cache, root / "cold.log")
    try:
        page = browser.new_page()
        page.goto(server.url, timeout=600_000)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=600_000)
        seconds = time.perf_counter() - t0
        page.close()
        return seconds
    finally:
        server.close()


def _row(name: str, values: list[float]) -> str:
    return f"{name:<28}{np.percentile(values, 50):>8.2f}{np.percentile(values, 95):>8.2f}{len(values):>6}"


def main() -> None:
    """Run every measurement and print p50/p95 per size beside the targets."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM_ARGS, Server, chromium_path, wait_idle

    path = chromium_path()
    if path is None:
        print("no Chromium (apt-get install -y chromium): skipped")
        return
    root = Path(tempfile.mkdtemp(prefix="versus-latency-"))
    os.environ.setdefault("VERSUS_CACHE_DIR", str(root / "cache"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        cold = cold_start(browser, root)
        server = Server(root / "cache", root / "server.log")
        results: dict[str, dict[str, list[float]]] = {}
        try:
            for n in (540, *SIZES):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(server.url)
                wait_idle(page, timeout=600_000)
                if n != 540:
                    t0 = time.perf_counter()
                    _open_files(page, *write_pair(root, n))
                    print(f"  {n:,} rows: sources chosen and loaded in {time.perf_counter() - t0:.1f} s", flush=True)
                try:
                    results[f"{n:,}"] = _examples_latency(page) | _switch_latency(page)
                except Exception as exc:  # report what was measured, with a picture of where it stopped
                    page.screenshot(path=str(root / f"failed-{n}.png"))
                    print(f"  {n:,} rows: stopped ({str(exc).splitlines()[0]}); screenshot {root}/failed-{n}.png")
                context.close()
        finally:
            server.close()
            browser.close()
    print(f"{'seconds':<28}{'p50':>8}{'p95':>8}{'n':>6}")
    for size, parts in results.items():
        print(f"-- {size} rows")
        for name, values in parts.items():
            if values:
                print(_row(name, values))
    last = results.get(f"{SIZES[-1]:,}", {})
    worst = max((np.percentile(v, 95) for k, v in last.items() if not k.startswith("page switch") and v),
                default=float("nan"))
    print(f"slowest p95 of a filter/page/sort change at {SIZES[-1]:,} rows: {worst:.2f} s (target < 0.5 s)")
    print(f"cold start (empty cache, launch to numbers on screen): {cold:.1f} s (target < 30 s)")
