"""Driving the real app: a streamlit server on a loopback port and Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Nothing still drawing: no skeleton placeholders (elements not yet rendered) and no spinner.
SETTLED = """() => !document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stSpinner"]')"""


def chromium_path() -> str | None:
    """Debian's Chromium, never a browser Playwright would download."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free loopback port, stopped by close()."""

    def __init__(self, cache_dir: Path, log: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, VERSUS_CACHE_DIR=str(cache_dir))
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *flags],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_healthy(120)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait_idle(page, timeout: float = 120_000) -> None:
    """Wait until the script has finished and nothing is loading (no skeletons, no spinners)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_timeout(300)  # let a just-triggered rerun start
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function(SETTLED, timeout=timeout)
    page.wait_for_timeout(200)


def nav_link(page, name: str):
    """The sidebar's link to the page called name."""
    return page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=name).first


def go(page, name: str, timeout: float = 120_000) -> None:
    """Open the page called name from the sidebar and wait until it has drawn."""
    nav_link(page, name).click()
    wait_idle(page, timeout=timeout)


def metrics(page) -> dict[str, str]:
    """Label -> value of every st.metric on the page."""
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def errors(page) -> list[str]:
    """Text of every st.error shown."""
    return [e.inner_text().strip() for e in page.locator('[data-testid="stAlertContentError"]').all()]


def exceptions(page) -> list[str]:
    """Text of every exception (traceback) element shown."""
    return [e.inner_text()[:300] for e in page.locator('[data-testid="stException"]').all()]


def choose(page, label: str, option: str, in_sidebar: bool = True, nth: int = 0) -> None:
    """Pick option in the nth selectbox whose label is label."""
    scope = page.locator('[data-testid="stSidebar"]') if in_sidebar else page.locator('[data-testid="stMain"]')
    box = scope.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).nth(nth)
    for attempt in range(3):  # a rerun that lands mid-click can close the list: open it again
        box.locator("input").click()
        item = page.get_by_role("option", name=option, exact=False).first
        try:
            item.wait_for(state="visible", timeout=10_000)
        except Exception:
            if attempt == 2:
                page.screenshot(path=f"/tmp/choose-failed-{label}.png")
                raise
            page.keyboard.press("Escape")
            wait_idle(page)
            continue
        item.click()
        break
    wait_idle(page)
