"""Table sources: W&B table JSON files and artifact folders, CSV/Parquet predictions files."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from core.cli import main
from core.comparison import Comparison
from core.errors import VersusError
from core.sources import CheckpointSource, TableSource, parse_source
from core.summary import summarize
from core.tables import ColumnMap, load_predictions_file, load_table_file
from wandb_helpers import artifact_folder, offline_env, quickstart_table, wandb_env  # noqa: F401 (fixture)


def _images(p, rows):
    return [p.samples.image(i) for i in rows]


@pytest.fixture(scope="module")
def quickstart_folders(demo_pair, tmp_path_factory):
    """Artifact folders of demo epoch 1 (A) and epoch 5 (B) in the quickstart layout."""
    tmp = tmp_path_factory.mktemp("quickstart")
    out = []
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp / "wandb-home")
        for name, p in zip("ab", demo_pair):
            table = quickstart_table(p.ids, [p.samples.image(i) for i in range(p.n)], p.truth, p.scores)
            out.append(artifact_folder(table, tmp / f"art-{name}"))
    return out


def test_quickstart_folder_gives_the_checkpoint_predictions(demo_pair, quickstart_folders):
    for p, folder in zip(demo_pair, quickstart_folders):
        assert (folder / "test_predictions.table.json").is_file()
        assert any((folder / "media" / "images").iterdir())
        t = load_table_file(folder)
        assert list(t.ids) == list(p.ids)
        np.testing.assert_array_equal(t.truth, p.truth)
        np.testing.assert_array_equal(t.scores, p.scores)
        assert t.class_names == [str(k) for k in range(10)]
        assert not t.meta["scores_are_onehot"]
        for i in (0, 7, p.n - 1):
            np.testing.assert_array_equal(t.samples.image(i), p.samples.image(i))


def test_quickstart_metrics_equal_the_checkpoint_path(demo_pair, quickstart_folders):
    ta, tb = (load_table_file(f) for f in quickstart_folders)
    from_tables = summarize(Comparison.build(ta, tb), "a", "b")
    from_ckpts = summarize(Comparison.build(*demo_pair), "a", "b")
    for key in ("n", "fixed", "regressed", "disagree", "both_wrong"):
        assert from_tables[key] == from_ckpts[key]
    for side, p in zip("ab", demo_pair):
        guess = p.scores.argmax(axis=1)
        assert from_tables[side]["accuracy"] == pytest.approx(accuracy_score(p.truth, guess))
        assert from_tables[side]["macro_f1"] == pytest.approx(f1_score(p.truth, guess, average="macro"))
        assert from_tables[side]["confusion"] == confusion_matrix(p.truth, guess, labels=range(10)).tolist()
        assert from_tables[side]["ece"] == pytest.approx(from_ckpts[side]["ece"])


def test_cli_compares_two_table_folders(demo_pair, quickstart_folders, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare", "--a", str(quickstart_folders[0]), "--b", str(quickstart_folders[1]),
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    a, b = demo_pair
    assert summary["n"] == a.n
    assert summary["a"]["accuracy"] == pytest.approx(accuracy_score(a.truth, a.scores.argmax(1)))
    assert summary["b"]["accuracy"] == pytest.approx(accuracy_score(b.truth, b.scores.argmax(1)))
    frame = pd.read_parquet(out / "predictions.parquet")
    assert list(frame["id"]) == list(a.ids)


def test_cli_mixes_a_checkpoint_with_a_table(demo_paths, demo_pair, quickstart_folders, tmp_path):
    out = tmp_path / "out"
    assert main(["compare", "--a", str(demo_paths[0]), "--b", str(quickstart_folders[1]),
                 "--data", "digits", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    b = demo_pair[1]
    assert summary["b"]["accuracy"] == pytest.approx(accuracy_score(b.truth, b.scores.argmax(1)))


def test_source_specs_are_parsed(tmp_path):
    assert parse_source("wandb:team/proj/abc123:test_predictions:v4") == \
        TableSource("wandb", "team/proj/abc123", "test_predictions", "v4")
    assert parse_source("wandb:team/proj/abc123") == TableSource("wandb", "team/proj/abc123")
    assert parse_source("preds.csv") == TableSource("file", "preds.csv")
    assert parse_source("x/test.table.json") == TableSource("file", "x/test.table.json")
    with pytest.raises(VersusError, match="is not a source versus can read; it tried"):
        parse_source(str(tmp_path))  # an empty folder is no kind of source
    (tmp_path / "t.table.json").write_text("{}")
    assert parse_source(str(tmp_path)) == TableSource("file", str(tmp_path))
    assert parse_source("epoch_3.pt", "convnet") == CheckpointSource("epoch_3.pt", "convnet")
    with pytest.raises(VersusError, match="wandb:ENTITY/PROJECT/RUN_ID"):
        parse_source("wandb:a/b/c:k:v1:extra")


def test_cli_bad_table_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "cut.table.json"
    bad.write_text('{"columns": ["id", "truth"], "data": [["a", 1], ["b"')
    assert main(["compare", "--a", str(bad), "--b", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not complete JSON" in err


def _write_table(folder, columns, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.table.json").write_text(json.dumps({"_type": "table", "columns": columns, "data": rows}))
    return folder / "t.table.json"


def _img(path):
    return {"_type": "image-file", "format": "png", "path": path, "width": 2, "height": 2}


@pytest.mark.parametrize("bad", ["../outside.png", "/etc/passwd", "media/../../x.png", "C:\\evil.png"])
def test_image_paths_leaving_the_folder_are_refused(tmp_path, bad):
    f = _write_table(tmp_path / "art", ["id", "image", "truth", "score_0", "score_1"],
                     [["a", _img(bad), 0, 0.9, 0.1]])
    with pytest.raises(VersusError, match="leaves the table's folder; refused"):
        load_table_file(f)


def test_symlinked_image_leaving_the_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.png"
    from PIL import Image

    Image.fromarray(np.zeros((2, 2), np.uint8)).save(secret)
    folder = tmp_path / "art"
    (folder / "media" / "images").mkdir(parents=True)
    os.symlink(secret, folder / "media" / "images" / "link.png")
    Image.fromarray(np.full((2, 2), 200, np.uint8)).save(folder / "media" / "images" / "ok.png")
    f = _write_table(folder, ["id", "image", "truth", "score_0", "score_1"],
                     [["a", _img("media/images/ok.png"), 0, 0.9, 0.1],
                      ["b", _img("media/images/link.png"), 1, 0.2, 0.8]])
    p = load_table_file(f)
    assert p.samples.image(0).tolist() == [[200, 200], [200, 200]]
    with pytest.raises(VersusError, match="links outside the table's folder; refused"):
        p.samples.image(1)


def test_truncated_json_is_one_clear_message(tmp_path, demo_pair, wandb_env):
    p = demo_pair[0]
    folder = artifact_folder(quickstart_table(p.ids[:20], None, p.truth[:20], p.scores[:20]), tmp_path / "art")
    f = folder / "test_predictions.table.json"
    raw = f.read_bytes()
    f.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(VersusError, match=r"is not complete JSON \(it breaks off at byte"):
        load_table_file(folder)


def test_table_without_scores_gets_onehot_scores_from_the_guess(tmp_path, demo_pair, wandb_env):
    p = demo_pair[0]
    guess = p.scores.argmax(axis=1)
    table = quickstart_table(p.ids, None, p.truth, p.scores, with_scores=False)
    t = load_table_file(artifact_folder(table, tmp_path / "art"))
    assert t.meta["scores_are_onehot"]
    np.testing.assert_array_equal(t.guess, guess)
    np.testing.assert_array_equal(t.scores, np.eye(10, dtype=np.float32)[guess])
    summary = summarize(Comparison.build(t, t), "a", "a")
    assert summary["a"]["accuracy"] == pytest.approx(accuracy_score(p.truth, guess))


def test_classes_differing_between_a_and_b_is_one_clear_message(tmp_path):
    fa = _write_table(tmp_path / "a", ["id", "truth", "score_0", "score_1", "score_2"],
                      [["x", 0, 0.5, 0.3, 0.2], ["y", 1, 0.1, 0.8, 0.1]])
    fb = _write_table(tmp_path / "b", ["id", "truth", "score_0", "score_1"],
                      [["x", 0, 0.6, 0.4], ["y", 1, 0.3, 0.7]])
    with pytest.raises(VersusError, match="A has 3 classes and B has 2"):
        Comparison.build(load_table_file(fa), load_table_file(fb))
    fc = _write_table(tmp_path / "c", ["id", "truth", "p_cat", "p_dog", "p_eel"],
                      [["x", 0, 0.5, 0.3, 0.2], ["y", 1, 0.1, 0.8, 0.1]])
    with pytest.raises(VersusError, match="name their classes differently"):
        Comparison.build(load_table_file(fa), load_table_file(fc))


def test_table_without_truth_or_predictions_says_what_is_missing(tmp_path):
    f = _write_table(tmp_path / "a", ["id", "score_0"], [["x", 1.0]])
    with pytest.raises(VersusError, match="has no truth column"):
        load_table_file(f)
    f = _write_table(tmp_path / "b", ["id", "truth"], [["x", 1]])
    with pytest.raises(VersusError, match="neither score columns"):
        load_table_file(f)
    f = _write_table(tmp_path / "c", ["id", "truth", "score_0", "score_1"], [["x", 5, 0.5, 0.5]])
    with pytest.raises(VersusError, match="truth 5 in row 0 is not one of the 2 classes"):
        load_table_file(f)


def test_csv_with_mapped_columns_logits_and_class_names(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3))
    names = ["cat", "dog", "eel"]
    truth = rng.integers(0, 3, 50)
    frame = pd.DataFrame({"uid": [f"u{i}" for i in range(50)], "label": [names[k] for k in truth]})
    for k, n in enumerate(names):
        frame[f"logit_{n}"] = logits[:, k]
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    p = load_predictions_file(path, ColumnMap(id="uid", score_prefix="logit_"))
    assert p.class_names == names
    assert list(p.ids) == list(frame["uid"])
    np.testing.assert_array_equal(p.truth, truth)
    np.testing.assert_allclose(p.scores, softmax(logits, axis=1), rtol=1e-5)
    assert "read as logits" in p.meta["scores_note"] and p.meta["scores_note"] in p.meta["warnings"]
    given = load_predictions_file(path, ColumnMap(id="uid", score_prefix="logit_",
                                                  class_names=("c", "d", "e")))
    assert given.class_names == ["c", "d", "e"]
    np.testing.assert_array_equal(given.truth, truth)


def test_parquet_with_default_names_and_row_number_ids(tmp_path):
    scores = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    frame = pd.DataFrame({"target": [0, 1, 1], "prob_0": scores[:, 0], "prob_1": scores[:, 1]})
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    p = load_predictions_file(path)
    assert list(p.ids) == ["0", "1", "2"]
    np.testing.assert_array_equal(p.guess, [0, 1, 0])
    assert p.samples is None
    with pytest.raises(VersusError, match="no truth column 'truth_x'"):
        load_predictions_file(path, ColumnMap(truth="truth_x"))
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(VersusError, match="cannot be read as PARQUET"):
        load_predictions_file(tmp_path / "broken.parquet")
