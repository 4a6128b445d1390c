"""Fuzzed image files in an ImageFolder: listing and inference either work or stop with one
VersusError sentence naming the file; with --skip-bad-images they always run."""
import io
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import given, settings, strategies as st
from PIL import Image

from core.architectures import ConvNet
from core.datasets import load_data
from core.errors import VersusError
from core.inference import run_models
from core.preprocessing import Preprocessing


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    arr = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


BASE = {"png": _encoded("PNG"), "jpg": _encoded("JPEG"), "gif": _encoded("GIF"), "bmp": _encoded("BMP")}
MODEL = ConvNet(in_channels=3).eval()
PREP = Preprocessing((28, 28), 3)


@st.composite
def damaged(draw):
    kind = draw(st.sampled_from(sorted(BASE)))
    data = bytearray(BASE[kind])
    how = draw(st.sampled_from(["cut", "flip", "both"]))
    if how in ("cut", "both"):
        data = data[: draw(st.integers(0, len(data)))]
    if how in ("flip", "both") and data:
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return kind, bytes(data)


@settings(max_examples=25, deadline=None)
@given(damaged())
def test_damaged_image_works_or_is_one_sentence(case):
    with tempfile.TemporaryDirectory() as tmp:
        _check(Path(tmp), *case)


def _check(tmp_path: Path, kind: str, blob: bytes) -> None:
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir(exist_ok=True)
        (tmp_path / cls / f"good.{kind}").write_bytes(BASE[kind])
    (tmp_path / "a" / f"fuzz.{kind}").write_bytes(blob)
    try:
        data = load_data(f"imagefolder:{tmp_path}")
        run_models([MODEL], [PREP], data, torch.device("cpu"), batch_size=2, workers=2)
    except VersusError as exc:
        text = str(exc)
        assert text.startswith(f"The image a/fuzz.{kind} cannot be used (") and "\n" not in text, text
    data = load_data(f"imagefolder:{tmp_path}", skip_bad_images=True)
    out = run_models([MODEL], [PREP], data, torch.device("cpu"), batch_size=2, workers=2)[0]
    assert len(out.scores) == len(data) in (2, 3) and np.isfinite(out.scores).all()
    assert (len(data) == 2) == bool(data.warnings)
