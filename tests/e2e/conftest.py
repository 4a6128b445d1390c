"""Fixtures for the browser suite: one app server, Debian's Chromium, a screenshot folder."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.e2e.browser import Server

# Fixed once per process (also for modules that import this file under another name).
os.environ.setdefault("VERSUS_SCREENSHOTS", f"/tmp/versus-e2e-shots/{time.strftime('%Y%m%d-%H%M%S')}")
SHOTS = Path(os.environ["VERSUS_SCREENSHOTS"])
UPLOAD_LIMIT_MB = 1


def pytest_terminal_summary(terminalreporter):
    if SHOTS.is_dir() and any(SHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SHOTS}")


@pytest.fixture(scope="session")
def demo_ready(demo_paths):
    """The demo checkpoints exist before the server starts (the app would train them too)."""
    return demo_paths


@pytest.fixture(scope="session")
def server(chromium, demo_ready, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    srv = Server(Path(os.environ["VERSUS_CACHE_DIR"]), log, "--server.maxUploadSize", str(UPLOAD_LIMIT_MB))
    yield srv
    srv.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    context.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot under the printed folder."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
