"""Bad inputs that used to give a misleading message, a traceback or a silent conversion: one plain sentence."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import VersusError
from core.tables import load_predictions_file, load_table_file, parse_table_json


def _table(tmp_path, doc) -> str:
    path = tmp_path / "t.table.json"
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return str(path)


def test_one_negative_cell_is_said_with_its_row_and_column(tmp_path):
    probs = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    probs[2, 1] = -0.01
    frame = pd.DataFrame({"id": ["a", "b", "c"], "truth": [0, 1, 0], "score_0": probs[:, 0], "score_1": probs[:, 1]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    p = load_predictions_file(tmp_path / "p.csv")
    [w] = p.meta["warnings"]
    assert "1 score cell(s) are negative (first: row 2, score_1)" in w and "softmax" in w
    frame.loc[2, "score_1"] = 0.4
    frame.to_csv(tmp_path / "p.csv", index=False)
    assert load_predictions_file(tmp_path / "p.csv").meta["warnings"] == []


def test_table_without_scores_is_said_one_hot(tmp_path):
    p = load_table_file(_table(tmp_path, {"columns": ["id", "guess", "truth"], "data": [["a", 1, 1], ["b", 0, 1]]}))
    assert "one-hot" in p.meta["warnings"][0]


def test_null_id_is_named_not_a_duplicate(tmp_path):
    with pytest.raises(VersusError, match="row 0 has no id"):
        load_table_file(_table(tmp_path, {"columns": ["id", "truth", "score_0", "score_1"],
                                          "data": [[None, 0, 0.9, 0.1], ["None", 1, 0.2, 0.8]]}))


def test_empty_table_is_refused(tmp_path):
    with pytest.raises(VersusError, match="has no rows"):
        load_table_file(_table(tmp_path, {"columns": ["id", "truth", "score_0"], "data": []}))


def test_invalid_utf8_deep_nesting_and_cut_json(tmp_path):
    with pytest.raises(VersusError, match=r"not UTF-8 text \(invalid byte at offset 14\)"):
        parse_table_json(b'{"columns": ["\xff"], "data": []}', "t")
    with pytest.raises(VersusError, match="nests its JSON far deeper"):
        parse_table_json(b"[" * 200_000 + b"]" * 200_000, "t")
    with pytest.raises(VersusError, match="not complete JSON"):
        parse_table_json(b'{"columns": ["a"', "t")
    with pytest.raises(VersusError, match="not valid JSON"):
        parse_table_json(b'{"columns": ["a"] "data": []}', "t")


def test_device_file_is_not_said_missing():
    with pytest.raises(VersusError, match="/dev/null is not a regular file"):
        load_predictions_file("/dev/null")
    with pytest.raises(VersusError, match="/dev/null is neither a file nor a folder"):
        load_table_file("/dev/null")


def test_cache_folder_below_a_regular_file_is_one_sentence(tmp_path):
    from core.demo import demo_checkpoints

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VersusError, match="cannot be written into the cache folder .*VERSUS_CACHE_DIR"):
        demo_checkpoints(blocker / "cache")


def test_argument_mistakes_are_answered_before_torch_or_any_cache(tmp_path):
    """Every argument is checked before torch is imported and before any cache is looked at: a
    zero batch size is refused even when the results would be cached, and quickly."""
    import subprocess
    import sys

    code = ("import sys; from core.cli import main; "
            f"rc = main(['compare', '--a', 'a.pt', '--b', 'b.pt', '--out', {str(tmp_path / 'o')!r}, '--batch-size', '0']); "
            "print(rc, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert done.stderr.strip() == "error: --batch-size must be at least 1, not 0."


def test_image_folder_link_leading_outside_is_refused(tmp_path):
    import os

    from PIL import Image

    from core.datasets import load_imagefolder

    root = tmp_path / "images"
    for k in ("a", "b"):
        (root / k).mkdir(parents=True)
        Image.new("L", (8, 8), 10).save(root / k / "x.png")
    secret = tmp_path / "secret.png"
    Image.new("L", (8, 8), 200).save(secret)
    assert list(load_imagefolder(root).ids) == ["a/x.png", "b/x.png"]
    os.symlink(secret, root / "b" / "y.png")
    with pytest.raises(VersusError, match="b/y.png in the image folder .* links to a file outside it; refused"):
        load_imagefolder(root)
