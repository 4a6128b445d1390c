"""What the Regressions page shows, computed from a Comparison: the map, the slices and the
per-class rows, independent of Streamlit (the page caches and draws them)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.comparison import FIXED, REGRESSED, Comparison
from core.embedding import Embedding, embed
from core.image_stats import image_stats
from core.paired import significantly_worse
from core.slices import Slice, clusters_of, find_slices

IMAGE_STATS_ROWS = 20000  # above this, image properties need reading every image: asked for


def extra_columns(cmp: Comparison) -> pd.DataFrame | None:
    """The logged tables' extra columns of A and B side by side: B's prefixed "B " when A has
    extra columns too, except a column holding the same values in both (after alignment), which
    is one slice family, named once."""
    a, b = cmp.a.extra, cmp.b.extra
    if a is None or b is None:
        return a if b is None else b
    shared = [c for c in b.columns if c in a.columns and same_values(a[c], b[c])]
    return pd.concat([a, b.drop(columns=shared).add_prefix("B ")], axis=1)


def same_values(x: pd.Series, y: pd.Series) -> bool:
    """The two columns hold the same value in every row (NaN equal to NaN; 1 equal to 1.0)."""
    x, y = x.reset_index(drop=True), y.reset_index(drop=True)
    if x.equals(y):
        return True
    numeric = pd.api.types.is_numeric_dtype
    return numeric(x) and numeric(y) and len(x) == len(y) and bool(
        np.array_equal(x.to_numpy(np.float64), y.to_numpy(np.float64), equal_nan=True))


def regression_slices(cmp: Comparison, emb: Embedding | None, with_images: bool) -> list[Slice]:
    """Every slice (see core/slices.py) over the comparison, its image properties when asked,
    the tables' extra columns and the clusters of the map. A map of the models' scores gives no
    clusters: they would group the examples by the very guesses being compared."""
    props = image_stats(cmp.samples, cmp.n) if with_images and cmp.samples is not None else None
    clusters = clusters_of(emb.xy) if emb is not None and emb.space != "scores" else None
    return find_slices(cmp, image_props=props, extra=extra_columns(cmp), clusters=clusters)


def open_rows(cmp: Comparison, rows: np.ndarray) -> np.ndarray:
    """A slice's rows as its examples open: regressed first, then fixed, then the rest."""
    rows = np.asarray(rows, np.int64)
    rank = np.select([cmp.status[rows] == REGRESSED, cmp.status[rows] == FIXED], [0, 1], 2)
    return rows[np.argsort(rank, kind="stable")]


def class_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Per-class paired rows (class, fixed, regressed, p_value, p_value_holm) worst first:
    most regressed minus fixed, then smallest Holm p."""
    frame = pd.DataFrame(rows, columns=["class", "fixed", "regressed", "p_value", "p_value_holm"])
    frame["regressed - fixed"] = frame["regressed"] - frame["fixed"]
    worse = {r["class"] for r in significantly_worse(rows)}  # the gate's rule, the only one
    frame["significantly worse"] = frame["class"].isin(worse)
    return frame.sort_values(["regressed - fixed", "p_value_holm"], ascending=[False, True],
                             kind="stable").reset_index(drop=True)


def default_space(cmp: Comparison) -> str:
    """The map's default space: B's features, else A's, else both models' scores."""
    return "b" if cmp.b.features is not None else "a" if cmp.a.features is not None else "scores"


def cli_slices(cmp: Comparison) -> list[Slice]:
    """The slices for the command line: image properties only when the images are in memory
    (reading every file of a folder is left to the app, where it is asked for)."""
    return regression_slices(cmp, embed(cmp, default_space(cmp)), getattr(cmp.samples, "array", None) is not None)
