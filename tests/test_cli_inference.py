"""The inference flags on the command line: checked before any work, warnings on stderr and in
summary.json, progress lines on a pipe, a bad image one sentence or skipped."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.architectures import ConvNet
from core.datasets import digits_split
from tests.helpers import write_imagefolder


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "core", "compare", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("flags, message", [
    (["--workers", "-1"], "--workers must be between 0 and 256, not -1."),
    (["--precision", "fp8"], "argument --precision: invalid choice"),
    (["--engine", "spark"], "argument --engine: invalid choice"),
    (["--ray-address", "1.2.3.4:6379"], "--ray-address needs --engine ray."),
    (["--max-pixels", "0"], "--max-pixels must be a positive number of pixels, not 0."),
    (["--batch-size", "0"], "--batch-size must be at least 1, not 0."),
])
def test_bad_inference_flags_are_one_line(tmp_path, flags, message):
    r = _run("--a", "x.pt", "--b", "y.pt", "--out", str(tmp_path / "o"), *flags)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


REASON = "image file is truncated"


def test_folder_with_a_truncated_image_and_a_probability_model(tmp_path):
    s = digits_split()
    te = s["test_idx"][:60]
    images = s["images"][te]
    data = tmp_path / "data"
    write_imagefolder(data, images, s["target"][te], [str(k) for k in range(10)])
    bad = sorted(data.rglob("*.png"))[7]
    bad.write_bytes(bad.read_bytes()[:-30])  # the header survives: found only when decoded
    torch.manual_seed(0)
    ckpt = tmp_path / "a.pt"
    torch.save(ConvNet().state_dict(), ckpt)
    probs = torch.nn.Sequential(ConvNet(), torch.nn.Softmax(dim=1))
    scripted = tmp_path / "b.pt"
    torch.jit.save(torch.jit.script(probs), scripted)
    common = ["--a", str(ckpt), "--b", str(scripted), "--data", f"imagefolder:{data}", "--size", "28",
              "--workers", "2"]
    r = _run(*common, "--out", str(tmp_path / "o1"))
    rel = bad.relative_to(data).as_posix()
    assert r.returncode == 2 and r.stderr.splitlines() == [f"error: The image {rel} cannot be used ({REASON}); remove it "
                                            "or pass --skip-bad-images."], r.stderr
    r = _run(*common, "--skip-bad-images", "--out", str(tmp_path / "o2"))
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert any(f"Skipped 1 bad image" in w and rel in w for w in warnings)
    assert any(f"{scripted} already outputs probabilities" in w for w in warnings)
    assert not any(line.startswith("Inference") for line in r.stderr.splitlines())  # quick: no progress lines
    summary = json.loads((tmp_path / "o2" / "summary.json").read_text())
    assert summary["n"] == 59 and summary["warnings"] == [w[len("warning: "):] for w in warnings]
    # from the cache: the same warnings (the score conversion is stored with the scores)
    again = _run(*common, "--skip-bad-images", "--out", str(tmp_path / "o3"))
    assert again.returncode == 0 and json.loads((tmp_path / "o3" / "summary.json").read_text())["warnings"] == summary["warnings"]
