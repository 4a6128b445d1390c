"""Preprocessing is never silently wrong: guesses are said, the probe warns with numbers and
flags when another preprocessing is clearly better, and a side near chance is flagged."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.cache import ArrayCache
from core.datasets import load_digits_test
from core.predictions import Predictions
from core.probe import mismatch_warnings
from core.sources import CheckpointSource, PrepOverrides, evaluate
from tests.model_helpers import digits_tensors, train

ARCH = '''
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(32 * 8 * 8, 10)  # 32x32 input only

    def forward(self, x):
        return self.head(self.body(x).flatten(1))
'''


@pytest.fixture(scope="module")
def rgb32(tmp_path_factory):
    """A model trained at 32x32 RGB with normalize 0.5 on digits, saved as a state_dict."""
    d = tmp_path_factory.mktemp("probe")
    (d / "small.py").write_text(ARCH)
    sys.path.insert(0, str(d))
    try:
        from small import Small
    finally:
        sys.path.remove(str(d))
    x, y = digits_tensors(size=32, channels=3, mean=0.5, std=0.5)
    model = train(Small(), x, y, steps=80)
    torch.save(model.state_dict(), d / "model.pt")
    return d


def _run(d, over, tmp_path):
    src = CheckpointSource(str(d / "model.pt"), f"{d / 'small.py'}:Small", trust=True)
    # resize the digits to 32 by default: the wrong size for this model would fail to run
    return evaluate([src], load_digits_test(), over=over, cache=ArrayCache(tmp_path / "c"))[0]


def test_defaults_warn_with_numbers_and_flags(rgb32, tmp_path):
    p = _run(rgb32, PrepOverrides(size=(32, 32)), tmp_path)
    text = " ".join(p.meta["warnings"])
    assert "normalization of its preprocessing was guessed" in text
    probe = [w for w in p.meta["warnings"] if "probe examples" in w]
    assert len(probe) == 1, p.meta["warnings"]
    assert "--mean 0.5 --std 0.5" in probe[0]
    chosen, better = [int(v) for v in __import__("re").findall(r"(\d+)%", probe[0])[:2]]
    assert better - chosen >= 5


def test_right_flags_do_not_warn(rgb32, tmp_path):
    p = _run(rgb32, PrepOverrides(size=(32, 32), channels=3, mean=(0.5,), std=(0.5,)), tmp_path)
    assert p.meta["warnings"] == []
    assert p.meta["preprocessing"]["from"]["normalization"] == "given"
    assert float(p.correct.mean()) > 0.6


def _preds(correct_rate, seed, name):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 10, 400)
    guess = np.where(rng.random(400) < correct_rate, truth, (truth + rng.integers(1, 10, 400)) % 10)
    return Predictions([str(i) for i in range(400)], truth, np.eye(10)[guess], [str(k) for k in range(10)],
                       meta={"name": name})


def test_near_chance_side_is_flagged():
    a, b = _preds(0.0, 0, "run1/best.pt"), _preds(0.95, 1, "run2/best.pt")
    found = mismatch_warnings(a, b)
    assert len(found) == 1 and found[0].startswith("A (run1/best.pt) scores") and "near chance" in found[0]
    assert mismatch_warnings(_preds(0.6, 0, "a"), b) == []


def test_cli_prints_every_warning(rgb32, tmp_path):
    ckpt, arch = str(rgb32 / "model.pt"), f"{rgb32 / 'small.py'}:Small"
    # a .py architecture named on the command line imports without --trust
    res = subprocess.run([sys.executable, "-m", "core", "compare", "--a", ckpt, "--b", ckpt, "--arch", arch,
                          "--size", "32", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning: ")]
    assert any("probe examples" in w and "--mean 0.5 --std 0.5" in w for w in warnings)
    import json

    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert [f"warning: {w}" for w in summary["warnings"]] == warnings
    assert summary["sources"]["a"]["name"] == "model.pt"
