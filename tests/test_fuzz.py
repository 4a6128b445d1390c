"""Property-based fuzzing of every kind of input a user (or an attacker) hands the command line:
checkpoint bytes, table JSON/CSV/Parquet, image files, offline-run logs, arguments.

For each generated input: exit 0 or 2; on 2 exactly one `error:` line on stderr; never a
traceback (an exception other than the exit leaves main() and fails the test); a sentinel file
outside the input folder is never opened (an audit hook watches every open); nothing is written
into the input folder. Example counts are small so the whole file stays well under a minute or two.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_OPENED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A secret file outside every input folder, and a place for inputs and outputs."""
    root = tmp_path_factory.mktemp("fuzz")
    secret = root / "secret" / "secret.table.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"columns": ["id", "truth", "score_0", "score_1"], "data": [["s", 0, 1, 0]]}))
    return root, secret


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}


def run_cli(argv: list[str], inputs: Path, secret: Path) -> tuple[int, str]:
    """main(argv) with stderr captured; checks exit code, stderr shape, secret and input folder."""
    before = _snapshot(inputs)
    err = io.StringIO()
    _OPENED.clear()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse's --help
            rc = int(exc.code or 0)
    text = err.getvalue()
    assert rc in (0, 2), f"exit {rc} for {argv}: {text}"
    assert "Traceback" not in text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if rc == 2:
        errors = [ln for ln in lines if ln.startswith("error: ")]
        assert len(errors) == 1, f"expected one error line for {argv}, got: {text!r}"
    real_secret = os.path.realpath(secret)
    assert not any(os.path.realpath(p) == real_secret for p in _OPENED if p), f"{argv} read the secret file"
    assert _snapshot(inputs) == before, f"{argv} wrote into its input folder"
    return rc, text


def _fresh(root: Path, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=name, dir=root))
    return folder


# ---- checkpoint bytes --------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_checkpoint_bytes(sandbox, demo_paths, data):
    root, secret = sandbox
    good = demo_paths[-1].read_bytes()
    kind = data.draw(st.sampled_from(["random", "cut", "flip", "empty"]))
    if kind == "random":
        blob = data.draw(st.binary(max_size=2048))
    elif kind == "cut":
        blob = good[: data.draw(st.integers(0, len(good) - 1))]
    elif kind == "flip":
        b = bytearray(good)
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(b) - 1))
            b[i] ^= data.draw(st.integers(1, 255))
        blob = bytes(b)
    else:
        blob = b""
    inputs = _fresh(root, "ckpt")
    suffix = data.draw(st.sampled_from([".pt", ".pth", ".ckpt", ".safetensors", ".bin"]))
    path = inputs / f"model{suffix}"
    path.write_bytes(blob)
    shutil.copyfile(demo_paths[-1], inputs / "b.pt")
    run_cli(["compare", "--a", str(path), "--b", str(inputs / "b.pt"), "--data", "digits",
             "--out", str(root / "out" / inputs.name)], inputs, secret)


# ---- tables: JSON structure, CSV, Parquet ------------------------------------------------------

_cell = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=6), st.sampled_from(["0", "1", "cat", "None", "../secret/secret.table.json"]))


def _image_ref(secret: Path):
    return st.sampled_from([
        {"_type": "image-file", "path": "media/images/x.png"},
        {"_type": "image-file", "path": str(secret)},
        {"_type": "image-file", "path": "../secret/secret.table.json"},
        "/etc/passwd", None, 3,
    ])


@SETTINGS
@given(data=st.data())
def test_table_json_structure(sandbox, data):
    root, secret = sandbox
    n = data.draw(st.integers(0, 6))
    c = data.draw(st.integers(1, 4))
    columns = ["id", "image", "truth"] + [f"score_{k}" for k in range(c)]
    columns = data.draw(st.one_of(st.just(columns), st.lists(st.sampled_from(columns + ["guess", "x"]), max_size=7)))
    rows = data.draw(st.lists(st.lists(st.one_of(_cell, _image_ref(secret)), min_size=len(columns),
                                       max_size=len(columns)), min_size=n, max_size=n))
    doc = data.draw(st.sampled_from(["table", "nested", "bare"]))
    body = {"_type": "table", "columns": columns, "data": rows} if doc == "table" else \
        {"columns": columns, "data": [[r] for r in rows]} if doc == "nested" else rows
    inputs = _fresh(root, "table")
    (inputs / "media" / "images").mkdir(parents=True)
    (inputs / "media" / "images" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    path = inputs / "p.table.json"
    path.write_text(json.dumps(body, allow_nan=True))
    rc, _ = run_cli(["compare", "--a", str(path), "--b", str(path), "--out", str(root / "out" / inputs.name)],
                    inputs, secret)
    if rc == 0:  # a table that loads cannot have read the secret (checked) and compares with itself
        summary = json.loads((root / "out" / inputs.name / "summary.json").read_text())
        assert summary["fixed"] == summary["regressed"] == 0


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["csv", "parquet"]))
def test_prediction_files(sandbox, data, fmt):
    root, secret = sandbox
    n = data.draw(st.integers(0, 8))
    ncols = data.draw(st.integers(1, 5))
    names = data.draw(st.lists(st.sampled_from(["id", "truth", "label", "guess", "score_0", "score_1", "prob_a",
                                                "image", "extra"]), min_size=ncols, max_size=ncols, unique=True))
    frame = pd.DataFrame({name: data.draw(st.lists(st.one_of(st.integers(-2, 3), st.floats(allow_nan=True),
                                                             st.sampled_from(["a", "0", "../secret/secret.table.json"])),
                                                   min_size=n, max_size=n)) for name in names})
    frame = frame.astype(str) if fmt == "parquet" and data.draw(st.booleans()) else frame
    inputs = _fresh(root, "file")
    path = inputs / f"p.{fmt}"
    try:
        frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    except Exception:  # mixed object columns pyarrow cannot write: write them as text
        frame.astype(str).to_parquet(path, index=False)
    run_cli(["compare", "--a", str(path), "--b", str(path), "--out", str(root / "out" / inputs.name)], inputs, secret)


# ---- image files ------------------------------------------------------------------------------

@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_image_folder_files(sandbox, demo_paths, data):
    from PIL import Image

    root, secret = sandbox
    inputs = _fresh(root, "images")
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    for k in range(3):
        (inputs / str(k)).mkdir()
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(inputs / str(k) / "ok.png")
    good = (inputs / "0" / "ok.png").read_bytes()
    kind = data.draw(st.sampled_from(["random", "cut", "empty", "text", "link"]))
    bad = inputs / "1" / "bad.png"
    if kind == "random":
        bad.write_bytes(data.draw(st.binary(max_size=512)))
    elif kind == "cut":
        bad.write_bytes(good[: data.draw(st.integers(0, len(good) - 1))])
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("not an image")
    else:
        os.symlink(secret, bad)
    models = ["--a", str(demo_paths[0]), "--b", str(demo_paths[-1]), "--size", "8", "--channels", "1"]
    run_cli(["compare", *models, "--data", f"imagefolder:{inputs}", "--out", str(root / "out" / inputs.name)],
            inputs, secret)


# ---- offline-run logs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offline_folder(demo_pair, tmp_path_factory):
    from wandb_helpers import demo_offline_run

    return demo_offline_run(demo_pair, tmp_path_factory.mktemp("fuzzrun"))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_offline_run_logs(sandbox, offline_folder, data):
    from core.offline_run import find_log

    root, secret = sandbox
    log = find_log(offline_folder)
    raw = bytearray(log.read_bytes())
    kind = data.draw(st.sampled_from(["flip", "cut", "garbage"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 16))):
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    elif kind == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        raw = bytearray(data.draw(st.binary(max_size=256)))
    inputs = _fresh(root, "run")
    (inputs / log.name).write_bytes(bytes(raw))
    run_cli(["compare", "--a", str(inputs), "--b", str(inputs), "--out", str(root / "out" / inputs.name)],
            inputs, secret)


# ---- arguments --------------------------------------------------------------------------------

_TOKENS = ["compare", "series", "--a", "--b", "--out", "--data", "--size", "--mean", "--std", "--channels",
           "--batch-size", "--device", "--arch", "--intersect", "--trust", "0", "-1", "3", "nan", "inf", "1e-310",
           "1,2", "x" * 300, "digits", "imagefolder:/nonexistent", "mnist:", "cuda", "cpu", "wandb:a",
           "wandb:a/b/c:k:v9", "convnet", "resnet18", "timm:", "x.py:Cls", "/dev/null", "", "99999x99999"]


@SETTINGS
@given(argv=st.lists(st.sampled_from(_TOKENS), max_size=10))
def test_arguments(sandbox, argv):
    root, secret = sandbox
    inputs = _fresh(root, "args")
    argv = [a if a != "--out" else a for a in argv]
    run_cli(argv, inputs, secret)
