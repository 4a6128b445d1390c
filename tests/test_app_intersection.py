"""AppTest: A and B on different ids say how many differ, and the intersection option stays on."""
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
KIND = "Predictions file (CSV/Parquet)"


def _csv(path: Path, ids: list[str], seed: int, classes: int = 3) -> str:
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(classes), size=len(ids))
    frame = pd.DataFrame({"id": ids, "truth": [int(i[1:]) % classes for i in ids]})
    for k in range(classes):
        frame[f"score_{k}"] = scores[:, k]
    frame.to_csv(path, index=False)
    return str(path)


def test_id_mismatch_offers_the_intersection_and_it_stays_on(tmp_path):
    a = _csv(tmp_path / "a.csv", [f"x{i}" for i in range(0, 30)], 0)
    b = _csv(tmp_path / "b.csv", [f"x{i}" for i in range(10, 50)], 1)
    at = AppTest.from_file(APP, default_timeout=120).run()
    for side, path in (("a", a), ("b", b)):
        at.selectbox(key=f"{side}_kind").set_value(KIND).run()
        at.text_input(key=f"{side}_pred_path").set_value(path).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "A and B do not cover the same examples: 10 ids are only in A, 20 only in B, 20 in both; "
        "compare on the intersection to go on."]
    at.checkbox(key="intersect").check().run()
    assert not at.error and {m.label: m.value for m in at.metric}["Both wrong"] is not None
    assert any("Compared on the 20 ids A and B share: 10 of A's 30 examples and 20 of B's 40 were left out"
               in w.value for w in at.warning)
    at.switch_page("views/2_examples.py").run()
    assert not at.error, [e.value for e in at.error]
    assert any("20 of 20 examples" in m.value or "of 20 examples" in m.value for m in at.markdown)


def test_a_file_rewritten_in_place_with_its_old_time_is_read_again(tmp_path):
    """Same size, same modification time put back (as a copy tool does): the app still sees the new
    content, because its caches key on the file's content (hashed once per change marker)."""
    import os

    ids = [f"x{i}" for i in range(30)]
    a, b = _csv(tmp_path / "a.csv", ids, 0), _csv(tmp_path / "b.csv", ids, 1)
    at = AppTest.from_file(APP, default_timeout=120).run()
    for side, path in (("a", a), ("b", b)):
        at.selectbox(key=f"{side}_kind").set_value(KIND).run()
        at.text_input(key=f"{side}_pred_path").set_value(path).run()
    before = [m.value for m in at.metric]
    old = os.stat(b)
    truth = pd.read_csv(b)["truth"].to_numpy()
    frame = pd.read_csv(b)
    for k in range(3):  # B now puts all its score on the truth: same bytes count, other numbers
        frame[f"score_{k}"] = (truth == k).astype(float)
    text = frame.to_csv(index=False, float_format="%.1f")  # shorter: padded with blank lines
    assert len(text) < old.st_size
    Path(b).write_text(text.ljust(old.st_size, "\n"))
    assert os.stat(b).st_size == old.st_size
    os.utime(b, ns=(old.st_atime_ns, old.st_mtime_ns))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = [m.value for m in at.metric]
    assert before[1] != "100.00%" and after[1] == "100.00%", (before, after)  # B's accuracy


def test_a_warning_about_the_other_side_leaves_with_it(tmp_path):
    """A near chance beside the demo's B (93%) is warned about; once B is another near-chance
    file, the warning goes: it belongs to the pairing, not to A's cached predictions."""
    ids = [f"x{i}" for i in range(300)]
    a, b = _csv(tmp_path / "a.csv", ids, 0, classes=5), _csv(tmp_path / "b.csv", ids, 1, classes=5)
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.selectbox(key="a_kind").set_value(KIND).run()
    at.text_input(key="a_pred_path").set_value(a).run()
    assert any("while the other side scores 9" in w.value for w in at.warning), [w.value for w in at.warning]
    at.selectbox(key="b_kind").set_value(KIND).run()
    at.text_input(key="b_pred_path").set_value(b).run()
    assert not at.exception and not at.error
    assert not any("other side scores" in w.value for w in at.warning), [w.value for w in at.warning]


def test_the_intersection_round_trips_through_a_link(tmp_path):
    a = _csv(tmp_path / "a.csv", [f"x{i}" for i in range(0, 30)], 0)
    b = _csv(tmp_path / "b.csv", [f"x{i}" for i in range(10, 50)], 1)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"a_kind": KIND, "a_pred_path": a, "b_kind": KIND, "b_pred_path": b, "intersect": "1"})
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Compared on the 20 ids A and B share" in w.value for w in at.warning)
    assert at.query_params.get("intersect") in ("1", ["1"])  # still in the URL, to be shared again
    at.checkbox(key="intersect").uncheck().run()
    assert at.error and "compare on the intersection to go on" in at.error[0].value
