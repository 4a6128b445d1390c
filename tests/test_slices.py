"""The slice finder: a planted slice ranks first and is significant; data without one reports
none significant; image properties against PIL's ImageStat; extra table columns reach it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageStat

from core.comparison import Comparison
from core.image_stats import image_stats, stats_of_array
from core.predictions import Predictions
from core.slices import clusters_of, find_slices, slices_table

C = 5


def _scores(guess: np.ndarray, conf: np.ndarray) -> np.ndarray:
    s = np.repeat(((1 - conf) / (C - 1))[:, None], C, axis=1)
    s[np.arange(len(guess)), guess] = conf
    return s


def _pair(right_a: np.ndarray, right_b: np.ndarray, truth: np.ndarray, rng, extra=None):
    wrong = (truth + 1 + rng.integers(0, C - 1, len(truth))) % C
    ga = np.where(right_a, truth, wrong)
    gb = np.where(right_b, truth, wrong)
    ids = [f"x{i}" for i in range(len(truth))]
    names = [f"c{k}" for k in range(C)]
    a = Predictions(ids, truth, _scores(ga, rng.uniform(0.3, 0.9, len(truth))), names, extra=extra)
    b = Predictions(ids, truth, _scores(gb, rng.uniform(0.3, 0.9, len(truth))), names)
    return Comparison.build(a, b)


def _background(n, rng):
    """Flips equally likely both ways everywhere: u < 0.06 fixed (A wrong, B right),
    0.06 <= u < 0.12 regressed (A right, B wrong), else both right."""
    u = rng.uniform(size=n)
    return u >= 0.06, (u < 0.06) | (u >= 0.12)


def test_planted_slice_ranks_first():
    rng = np.random.default_rng(0)
    n = 3000
    truth = rng.integers(0, C, n)
    camera = rng.choice(["north", "south", "east"], n)
    right_a, right_b = _background(n, rng)
    planted = np.flatnonzero((camera == "east") & right_a & right_b)[:60]
    right_b[planted] = False                            # B breaks 60 more in camera east
    cmp = _pair(right_a, right_b, truth, rng, extra=pd.DataFrame({"camera": camera}))
    found = find_slices(cmp, extra=cmp.a.extra)
    top = found[0]
    assert (top.family, top.name) == ("camera", "= east")
    assert top.significant and top.p_value_holm < 0.01
    nets = [s.net for s in found]
    assert nets == sorted(nets, reverse=True)       # ranked by regressed minus fixed
    east = camera == "east"
    # counts against a direct count, rows open the examples of the slice
    assert top.fixed == int(np.sum(east & ~right_a & right_b))
    assert top.regressed == int(np.sum(east & right_a & ~right_b))
    np.testing.assert_array_equal(top.rows, np.flatnonzero(east))
    assert slices_table(found, 3).iloc[0]["slice"] == "camera = east"


def test_no_planted_slice_none_significant():
    rng = np.random.default_rng(1)
    n = 3000
    truth = rng.integers(0, C, n)
    right_a, right_b = _background(n, rng)
    cmp = _pair(right_a, right_b, truth, rng, extra=pd.DataFrame({"camera": rng.choice(["n", "s", "e"], n),
                                                                  "exposure": rng.normal(size=n)}))
    xy = rng.normal(size=(n, 2))
    found = find_slices(cmp, extra=cmp.a.extra, clusters=clusters_of(xy))
    families = {s.family for s in found}
    assert {"true class", "A's confidence", "B's confidence", "camera", "exposure", "map cluster"} <= families
    assert not any(s.significant for s in found)


def test_image_stats_against_pil(tmp_path):
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (7, 6, 9), dtype=np.uint8)
    s = stats_of_array(gray)
    for i, img in enumerate(gray):
        st = ImageStat.Stat(Image.fromarray(img))
        assert s["brightness"][i] == pytest.approx(st.mean[0] / 255, rel=1e-5)
        assert s["contrast"][i] == pytest.approx(st.stddev[0] / 255, rel=1e-4)
    assert (s["height"] == 6).all() and (s["width"] == 9).all() and s["aspect_ratio"][0] == pytest.approx(1.5)
    rgb = rng.integers(0, 256, (3, 5, 4, 3), dtype=np.uint8)
    s = stats_of_array(rgb)
    for i, img in enumerate(rgb):
        lum = ImageStat.Stat(Image.fromarray(img).convert("L")).mean[0] / 255
        assert s["brightness"][i] == pytest.approx(lum, abs=2 / 255)  # PIL rounds each pixel


class _Lazy:
    """Samples of different sizes, read one by one."""
    fingerprint = None

    def __init__(self, images):
        self.images = images

    def image(self, i):
        if self.images[i] is None:
            raise OSError("unreadable")
        return self.images[i]


def test_image_stats_one_by_one_and_cache(tmp_path):
    from core.cache import ArrayCache

    imgs = [np.full((4, 8), 51, np.uint8), np.zeros((10, 5, 3), np.uint8), None]
    frame = image_stats(_Lazy(imgs), 3, ArrayCache(tmp_path))
    assert frame["brightness"].iloc[0] == pytest.approx(0.2) and frame["aspect_ratio"].iloc[1] == pytest.approx(0.5)
    assert frame.iloc[2].isna().all()
    cached = _Lazy([np.zeros((2, 2), np.uint8)] * 3)
    cached.fingerprint = "content-1"
    first = image_stats(cached, 3, ArrayCache(tmp_path))
    cached.images = [np.full((2, 2), 255, np.uint8)] * 3  # same fingerprint: read from the cache
    assert image_stats(cached, 3, ArrayCache(tmp_path))["brightness"].tolist() == first["brightness"].tolist()


def test_extra_columns_of_a_predictions_file_reach_the_slices(tmp_path):
    from core.tables import load_predictions_file

    frame = pd.DataFrame({"id": ["a", "b", "c"], "truth": ["x", "y", "x"], "score_x": [0.9, 0.2, 0.4],
                          "score_y": [0.1, 0.8, 0.6], "camera": ["n", "s", "n"], "exposure": [0.1, 0.2, 0.3]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    p = load_predictions_file(tmp_path / "p.csv")
    assert list(p.extra.columns) == ["camera", "exposure"]
    assert p.take(np.array([2, 0])).extra["camera"].tolist() == ["n", "n"]


def test_slice_examples_open_regressed_first_and_extra_columns_of_both_sides():
    from core.regressions import extra_columns, open_rows

    rng = np.random.default_rng(4)
    n = 200
    truth = rng.integers(0, C, n)
    right_a, right_b = _background(n, rng)
    cmp = _pair(right_a, right_b, truth, rng, extra=pd.DataFrame({"camera": ["n"] * n}))
    rows = np.arange(n)
    opened = open_rows(cmp, rows)
    status = cmp.status_names()[opened]
    k_reg, k_fix = int((status == "regressed").sum()), int((status == "fixed").sum())
    assert set(status[:k_reg]) == {"regressed"} and set(status[k_reg:k_reg + k_fix]) == {"fixed"}
    assert sorted(opened.tolist()) == rows.tolist()
    cmp.b.extra = pd.DataFrame({"camera": ["s"] * n})
    assert list(extra_columns(cmp).columns) == ["camera", "B camera"]
