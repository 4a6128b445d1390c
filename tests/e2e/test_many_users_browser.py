"""Five browser sessions at once against one server, each on its own checkpoint pair."""
from __future__ import annotations

import asyncio
import threading
import time
import urllib.request

from core.datasets import load_digits_test
from core.sources import CheckpointSource, evaluate
from tests.e2e.browser import CHROMIUM_ARGS, IDLE, SETTLED
from tests.e2e.conftest import SHOTS

PAIRS = [(1, 5), (2, 4), (3, 1), (4, 2), (5, 3)]
METRICS_JS = """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m =>
    [m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
     m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))"""


async def _session(browser, url: str, a: int, b: int, shots) -> dict[str, str]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/?a_ckpt=epoch_{a}.pt&b_ckpt=epoch_{b}.pt", timeout=180_000)
    await page.wait_for_selector('[data-testid="stMetric"]', timeout=180_000)
    await page.wait_for_selector(IDLE, timeout=180_000)
    await page.wait_for_function(SETTLED, timeout=180_000)
    shown = await page.evaluate(METRICS_JS)
    await page.screenshot(path=str(shots / f"08_user_{a}_vs_{b}.png"))
    await context.close()
    return shown


async def _all(chromium: str, url: str, shots) -> list[dict[str, str]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(_session(browser, url, a, b, shots) for a, b in PAIRS))
        finally:
            await browser.close()


def test_five_sessions_see_their_own_numbers(server, chromium, demo_paths):
    data = load_digits_test()
    preds = evaluate([CheckpointSource(str(p)) for p in demo_paths], data)
    accuracy = {k + 1: f"{(p.guess == p.truth).mean():.2%}" for k, p in enumerate(preds)}
    assert len(set(accuracy.values())) == 5, "the epochs must be told apart by accuracy"

    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            start = time.monotonic()
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=60) as r:
                assert r.status == 200
            latencies.append(time.monotonic() - start)
            time.sleep(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()

    SHOTS.mkdir(parents=True, exist_ok=True)
    results: list = []
    # The session's sync Playwright owns this thread's event loop: run the five async sessions
    # on a thread of their own, with a browser of their own.
    runner = threading.Thread(target=lambda: results.extend(asyncio.run(_all(chromium, server.url, SHOTS))))
    try:
        runner.start()
        runner.join(600)
    finally:
        stop.set()
        poller.join(70)
    assert len(results) == len(PAIRS), "the five sessions did not all finish"
    for (a, b), shown in zip(PAIRS, results):
        assert shown["Accuracy A"] == accuracy[a], (a, b, shown)
        assert shown["Accuracy B"] == accuracy[b], (a, b, shown)
    assert latencies and max(latencies) < 10, f"health check took up to {max(latencies):.1f} s under load"
