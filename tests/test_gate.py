"""The CI gate through the real CLI on prediction files the test writes: each condition exits 1
with a line naming it and its value, all holding exits 0, bad limits exit 2; mid-p and Holm
against scipy and a hand computation."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, binomtest

from core.cli import main
from core.metrics import holm
from core.paired import midp_many


def midp(fixed: int, regressed: int) -> float:
    return float(midp_many(np.array([fixed]), np.array([regressed]))[0])

CLASSES = ["c0", "c1", "c2", "c3"]


def _write(path, truth, guess):
    scores = np.full((len(truth), 4), 0.1)
    scores[np.arange(len(truth)), guess] = 0.7
    frame = pd.DataFrame({"id": [f"x{i}" for i in range(len(truth))], "truth": [CLASSES[t] for t in truth]})
    for k, c in enumerate(CLASSES):
        frame[f"score_{c}"] = scores[:, k]
    frame.to_csv(path, index=False)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """200 examples, 50 per class. Class c0: A right on all, B wrong on 20 (20 regressed);
    class c1: A wrong on 5 that B gets right (5 fixed). So n=200, regressed=20, fixed=5:
    negative flip rate 0.1, B - A accuracy -0.075."""
    d = tmp_path_factory.mktemp("gate")
    truth = np.repeat(np.arange(4), 50)
    ga, gb = truth.copy(), truth.copy()
    gb[:20] = 1            # c0 regressed
    ga[50:55] = 2          # c1 fixed
    _write(d / "a.csv", truth, ga)
    _write(d / "b.csv", truth, gb)
    return d


def _run(pair, tmp_path, *flags):
    return main(["compare", "--a", str(pair / "a.csv"), "--b", str(pair / "b.csv"), "--out", str(tmp_path / "out"),
                 *flags])


def test_no_gate_exits_0(pair, tmp_path):
    assert _run(pair, tmp_path) == 0


@pytest.mark.parametrize("flags,code,needle", [
    (["--max-nfr", "0.1"], 0, None),
    (["--max-nfr", "0.09"], 1, "negative flip rate 0.1000 is above --max-nfr 0.09"),
    (["--min-delta", "-0.5"], 0, None),
    (["--min-delta", "-0.07"], 1, "--min-delta -0.07"),
    (["--max-class-regressions", "1"], 0, None),
    (["--max-class-regressions", "0"], 1, "1 classes got significantly worse (Holm p < 0.05), more than "
                                          "--max-class-regressions 0: c0"),
])
def test_each_condition(pair, tmp_path, capsys, flags, code, needle):
    assert _run(pair, tmp_path, *flags) == code
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("gate failed: ")]
    assert len(failed) == (code == 1)
    if needle:
        assert needle in failed[0]


def test_min_delta_value_is_the_interval_low_end(pair, tmp_path, capsys):
    import json

    assert _run(pair, tmp_path, "--min-delta", "0") == 1
    low = json.loads((tmp_path / "out" / "summary.json").read_text())["delta"]["accuracy"]["ci95"][0]
    assert low < -0.075 + 1e-9
    assert f"B - A accuracy {low:+.4f} is below --min-delta 0" in capsys.readouterr().err


def test_all_failing_prints_one_line_each_and_markdown(pair, tmp_path, capsys):
    md = tmp_path / "comment.md"
    code = _run(pair, tmp_path, "--max-nfr", "0.05", "--min-delta", "0", "--max-class-regressions", "0",
                "--markdown", str(md))
    assert code == 1
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("gate failed: ")]
    assert [x.split("--")[1].split()[0] for x in lines] == ["max-nfr", "min-delta", "max-class-regressions"]
    text = md.read_text()
    assert text.startswith("### versus: Gate failed")
    assert "It fixes 5 of A's 5 mistakes and makes 20 new ones." in text
    assert "| `--max-nfr` | 0.05 | 0.1 | **fail** |" in text
    assert "| c0 | 0 | 20 |" in text
    assert "| true class = c0 | 50 | 0 | 20 |" in text     # the slice finder names the same class


@pytest.mark.parametrize("flags", [["--max-nfr", "1.5"], ["--max-nfr", "-0.1"], ["--min-delta", "2"],
                                   ["--max-class-regressions", "-1"], ["--max-nfr", "abc"], ["--max-nfr", "nan"],
                                   ["--markdown", "/nonexistent/folder/c.md"]])
def test_bad_limits_exit_2(pair, tmp_path, capsys, flags):
    assert _run(pair, tmp_path, *flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_markdown_naming_a_folder_under_home_is_refused(pair, tmp_path, capsys, monkeypatch):
    (tmp_path / "home" / "notes").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _run(pair, tmp_path, "--markdown", "~/notes") == 2
    assert capsys.readouterr().err.strip() == "error: --markdown ~/notes is a folder; give a file name."


def test_python_m_core_exit_code(pair, tmp_path):
    r = subprocess.run([sys.executable, "-m", "core", "compare", "--a", str(pair / "a.csv"), "--b",
                        str(pair / "b.csv"), "--out", str(tmp_path / "o"), "--max-nfr", "0.01"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "gate failed: negative flip rate 0.1000" in r.stderr
    assert "fixed 5, regressed 20; wrote" in r.stdout  # the result is still said
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("fixed,regressed", [(0, 0), (0, 20), (5, 20), (7, 7), (30, 12), (1, 0), (120, 80)])
def test_midp_against_scipy(fixed, regressed):
    n, k = fixed + regressed, min(fixed, regressed)
    if n == 0:
        assert midp(0, 0) == 1.0
        return
    exact = binomtest(k, n, 0.5).pvalue              # scipy's exact two-sided test
    expected = min(1.0, exact - binom.pmf(k, n, 0.5)) if fixed != regressed else 1.0
    assert midp(fixed, regressed) == pytest.approx(expected, rel=1e-9)
    assert midp_many(np.array([fixed]), np.array([regressed]))[0] == pytest.approx(expected, rel=1e-9)


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.03, 0.5 -> 4*0.01=0.04, 3*0.02=0.06, 2*0.03=0.06, 1*0.5=0.5 (monotone)
    np.testing.assert_allclose(holm(np.array([0.03, 0.5, 0.01, 0.02])), [0.06, 0.5, 0.04, 0.06])
    np.testing.assert_allclose(holm(np.array([0.04, 0.3])), [0.08, 0.3])
    np.testing.assert_allclose(holm(np.array([0.6, 0.7])), [1.0, 1.0])  # 2*0.6 caps at 1; monotone after
