"""--out and --markdown never overwrite an input or write into a folder versus reads from; the
README's gate example (--markdown inside a new --out) works on a first run."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from core.cli import main


@pytest.fixture
def tables(tmp_path):
    """Two small prediction tables in tmp_path/in (A's is named like versus's own output)."""
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 60)
    for name in ("predictions.parquet", "b.parquet"):
        scores = rng.random((60, 3))
        frame = pd.DataFrame({"id": [f"x{i}" for i in range(60)], "truth": truth})
        for k in range(3):
            frame[f"score_{k}"] = scores[:, k] / scores.sum(axis=1)
        frame.to_parquet(folder / name, index=False)
    return folder


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _compare(tables, out, *flags):
    return main(["compare", "--a", str(tables / "predictions.parquet"), "--b", str(tables / "b.parquet"),
                 "--out", str(out), *flags])


def test_out_over_an_input_file_is_refused_and_the_input_kept(tables, capsys):
    before = _digest(tables)
    assert _compare(tables, tables) == 2
    err = capsys.readouterr().err
    assert err == f"error: --out would overwrite the input {tables / 'predictions.parquet'}; choose another folder.\n"
    assert _digest(tables) == before


def test_markdown_over_an_input_file_is_refused(tables, tmp_path, capsys):
    before = _digest(tables)
    assert _compare(tables, tmp_path / "out", "--max-nfr", "1", "--markdown", str(tables / "b.parquet")) == 2
    assert capsys.readouterr().err.startswith("error: --markdown would overwrite the input ")
    assert _digest(tables) == before and not (tmp_path / "out").exists()


def test_out_beside_the_inputs_is_fine(tables, capsys):
    """The folder holding an input file may take the results when no name collides."""
    (tables / "predictions.parquet").rename(tables / "a.parquet")
    assert main(["compare", "--a", str(tables / "a.parquet"), "--b", str(tables / "b.parquet"),
                 "--out", str(tables)]) == 0
    assert (tables / "summary.json").exists()


def test_out_inside_a_folder_read_from_is_refused(tables, tmp_path, capsys):
    images = tmp_path / "images"
    (images / "cat").mkdir(parents=True)
    assert _compare(tables, images / "results", "--data", f"imagefolder:{images}") == 2
    assert "which versus reads from" in capsys.readouterr().err
    series = tmp_path / "run"
    series.mkdir()
    assert main(["series", "--folder", str(series), "--out", str(series / "series")]) == 2
    assert capsys.readouterr().err == (f"error: --out would write series.json into {series}, which versus reads "
                                       "from (it writes nothing into its inputs); choose another folder.\n")
    assert list(images.rglob("*.json")) == [] and not (series / "series").exists()


def test_markdown_inside_the_new_out_folder_works(tables, tmp_path):
    """README: --out out ... --markdown out/comment.md on a first run, when out/ does not exist yet."""
    out = tmp_path / "fresh"
    assert _compare(tables, out, "--max-nfr", "1", "--markdown", str(out / "comment.md")) == 0
    assert (out / "comment.md").read_text().startswith("### versus: Gate passed")


@pytest.mark.parametrize("out, markdown, says", [
    ("", None, "error: --out is empty; give the folder to write the results into.\n"),
    ("{tmp}/" + "x" * 300, None, "is longer than 255 bytes, which no file system allows.\n"),
    ("{tmp}/o", "{tmp}/o/summary.json", "is the summary.json versus writes into --out; give another file name.\n"),
    ("{tmp}/in/b.parquet", None, "exists and is not a folder.\n"),
])
def test_unusable_out_or_markdown_is_one_line_before_anything_runs(tables, tmp_path, capsys, out, markdown, says):
    flags = ["--max-nfr", "1", "--markdown", markdown.format(tmp=tmp_path)] if markdown else []
    assert _compare(tables, out.format(tmp=tmp_path), *flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.endswith(says) and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing written anywhere
