"""The Series page in a real browser: the demo's five epochs, dynamics numbers, and two
checkpoints picked there becoming A and B on the Overview."""
from __future__ import annotations

import numpy as np

from core.datasets import load_digits_test
from core.sources import CheckpointSource, evaluate
from tests.e2e.browser import choose, errors, exceptions, go, metrics, wait_idle


def test_series_page_sets_a_and_b(server, page, shot, demo_paths):
    data = load_digits_test()
    correct = np.array([evaluate([CheckpointSource(str(p))], data)[0].correct for p in demo_paths])
    page.goto(server.url)
    wait_idle(page)
    go(page, "Series")
    shot(page, "series_01_demo")
    shown = metrics(page)
    assert shown["Forgetting events"] == f"{int((correct[:-1] & ~correct[1:]).sum()):,}"
    assert shown["Never right"] == f"{int((~correct.any(axis=0)).sum()):,}"
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    assert not exceptions(page) and not errors(page)
    choose(page, "A", "1: epoch 2", in_sidebar=False)
    choose(page, "B", "3: epoch 4", in_sidebar=False)
    page.get_by_role("button", name="Compare as A and B").click()
    wait_idle(page)
    assert page.get_by_text("A is now checkpoint 1").count() == 1
    go(page, "Overview")
    shot(page, "series_02_overview_after_pick")
    shown = metrics(page)
    assert shown["Accuracy A"] == f"{correct[1].mean():.2%}"
    assert shown["Accuracy B"] == f"{correct[3].mean():.2%}"
    assert not exceptions(page)
