"""A 1,000-class comparison in a real browser, opened from a link naming two Parquet prediction
files: every page draws without an error, the numbers are scikit-learn's, Confusion shows the
most-confused pairs and a submatrix (never a 1,000 x 1,000 chart), Examples one compact table."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sklearn.metrics import accuracy_score

from tests.helpers import many_class_files
from tests.e2e.browser import errors, exceptions, go, metrics, wait_idle

N, C = 1500, 1000
KIND = "Predictions file (CSV/Parquet)"
PAGES = ("Examples", "Errors", "By guess", "Confusion", "Curves", "Calibration", "Regressions", "Overview")


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    return many_class_files(tmp_path_factory.mktemp("many-browser"), N, C)


def test_a_thousand_classes_in_every_page(server, page, shot, many):
    a, b, (pa, pb) = many
    link = urlencode({"a_kind": KIND, "a_pred_path": str(pa), "b_kind": KIND, "b_pred_path": str(pb)})
    page.goto(f"{server.url}/?{link}")
    wait_idle(page, timeout=300_000)
    shown = metrics(page)
    assert shown["Accuracy A"] == f"{accuracy_score(a.truth, a.scores.argmax(1)):.2%}"
    assert shown["Accuracy B"] == f"{accuracy_score(b.truth, b.scores.argmax(1)):.2%}"
    for name in PAGES:
        go(page, name, timeout=300_000)
        shot(page, f"30_many_classes_{name.lower().replace(' ', '_')}")
        assert not exceptions(page), (name, exceptions(page))
        assert not errors(page), (name, errors(page))
        main = page.locator('[data-testid="stMain"]')
        if name == "Examples":
            assert main.locator('[data-testid="stDataFrame"]').count() == 1
            assert main.locator('[data-testid="stVegaLiteChart"]').count() == 0  # no chart per row
        if name == "Confusion":
            assert main.get_by_text("pairs", exact=False).first.is_visible()
            assert main.locator('[data-testid="stVegaLiteChart"]').count() == 3  # A, B and B - A
            assert main.get_by_text("Classes in the matrices").count() == 1
            assert 0 < main.locator("[data-tag-index]").count() <= 30  # a submatrix's classes, not 1,000
