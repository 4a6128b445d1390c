"""The server settings in .streamlit/config.toml are the ones Streamlit reads when the app is run
from the project's root (as `make app` does)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READ = ("from streamlit import config; config.get_config_options(force_reparse=True); "
        "print(config.get_option('runner.postScriptGC'), config.get_option('server.fileWatcherType'), "
        "config.get_option('server.address'), "
        "config.get_option('browser.gatherUsageStats'))")


def test_no_gc_after_each_run_no_source_watcher_and_loopback_only():
    r = subprocess.run([sys.executable, "-c", READ], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # a full collection after every click cost 150-300 ms of held GIL at 1M rows (bench/browser_latency.py)
    # watching the project folder (.venv included) slowed the cold start to 15-33 s
    assert r.stdout.split() == ["False", "none", "localhost", "False"]
