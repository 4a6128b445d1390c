"""The embedding map: penultimate features of A or B (or both models' scores when no features
were kept) reduced to 2D with PCA, each point with its status; the payload drawn is bounded:
points up to a limit, density bins (aggregated here) above it. UMAP is not installed: PCA only."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from core.comparison import (BOTH_RIGHT, BOTH_WRONG_DIFF, BOTH_WRONG_SAME, FIXED, REGRESSED,
                             Comparison)
from core.errors import VersusError

MAP_STATUS = {BOTH_RIGHT: "both right", FIXED: "fixed", REGRESSED: "regressed",
              BOTH_WRONG_SAME: "both wrong", BOTH_WRONG_DIFF: "both wrong"}
STATUS_ORDER = ["regressed", "fixed", "both wrong", "both right"]
POINT_LIMIT = 5000
BINS = 60
FIT_ROWS = 20000


@dataclass(frozen=True)
class Embedding:
    """2D coordinates per example, what they were computed from, and the variance they keep."""

    xy: np.ndarray          # n x 2 float32
    space: str              # "a", "b" or "scores"
    explained: float        # fraction of variance kept by the two components


def spaces(cmp: Comparison) -> dict[str, str]:
    """The feature spaces available for the map, with labels."""
    out = {}
    if cmp.a.features is not None:
        out["a"] = "A's penultimate features"
    if cmp.b.features is not None:
        out["b"] = "B's penultimate features"
    out["scores"] = "A's and B's class scores side by side"
    return out


def features_of(cmp: Comparison, space: str) -> np.ndarray:
    """The n x d matrix of a space: a side's features, or A's and B's scores concatenated."""
    if space == "scores":
        return np.hstack([cmp.a.scores, cmp.b.scores]).astype(np.float32)
    f = (cmp.a if space == "a" else cmp.b).features
    if f is None:
        raise VersusError(f"Model {space.upper()} kept no features; choose another space for the map.")
    return np.asarray(f, dtype=np.float32).reshape(len(f), -1)


def embed(cmp: Comparison, space: str, seed: int = 0) -> Embedding:
    """PCA to 2D, fitted on at most FIT_ROWS examples (seeded sample) and applied to all."""
    x = features_of(cmp, space)
    if len(x) < 2 or x.shape[1] < 2:
        return Embedding(np.zeros((len(x), 2), np.float32), space, 0.0)
    fit = x if len(x) <= FIT_ROWS else x[np.random.default_rng(seed).choice(len(x), FIT_ROWS, replace=False)]
    pca = PCA(n_components=2, random_state=seed, svd_solver="auto").fit(fit)
    xy = pca.transform(x).astype(np.float32)
    return Embedding(xy, space, float(pca.explained_variance_ratio_.sum()))


def map_status(cmp: Comparison) -> np.ndarray:
    """Status per example as the map names it (both wrong merged)."""
    names = np.array([MAP_STATUS[k] for k in range(len(MAP_STATUS))], dtype=object)
    return names[cmp.status]


def in_view(xy: np.ndarray, x_range: tuple[float, float] | None, y_range: tuple[float, float] | None,
            mask: np.ndarray | None = None) -> np.ndarray:
    """Row indices inside the zoom window (and mask, a boolean filter)."""
    keep = np.ones(len(xy), bool) if mask is None else np.asarray(mask, bool).copy()
    if x_range is not None:
        keep &= (xy[:, 0] >= x_range[0]) & (xy[:, 0] <= x_range[1])
    if y_range is not None:
        keep &= (xy[:, 1] >= y_range[0]) & (xy[:, 1] <= y_range[1])
    return np.flatnonzero(keep)


def point_frame(xy: np.ndarray, status: np.ndarray, rows: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """One row per drawn point: row index, id, x, y, status (at most POINT_LIMIT rows)."""
    rows = np.asarray(rows, np.int64)[:POINT_LIMIT]
    return pd.DataFrame({"row": rows, "id": ids[rows].astype(object), "x": xy[rows, 0], "y": xy[rows, 1],
                         "status": status[rows]})


def bin_edges(xy: np.ndarray, rows: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width edges over the rows' extent on each axis."""
    pts = xy[rows]
    ex = np.linspace(pts[:, 0].min(), pts[:, 0].max() + 1e-9, bins + 1)
    ey = np.linspace(pts[:, 1].min(), pts[:, 1].max() + 1e-9, bins + 1)
    return ex, ey


def density_frame(xy: np.ndarray, status: np.ndarray, rows: np.ndarray, bins: int = BINS) -> pd.DataFrame:
    """Density bins of the rows, aggregated here: one row per non-empty cell with its bounds,
    total count, count per status and the share regressed (at most bins x bins rows)."""
    rows = np.asarray(rows, np.int64)
    if len(rows) == 0:
        return pd.DataFrame(columns=["bx", "by", "x", "x2", "y", "y2", "count", *STATUS_ORDER, "regressed_share"])
    ex, ey = bin_edges(xy, rows, bins)
    bx = np.clip(np.searchsorted(ex, xy[rows, 0], side="right") - 1, 0, bins - 1)
    by = np.clip(np.searchsorted(ey, xy[rows, 1], side="right") - 1, 0, bins - 1)
    cell = bx * bins + by
    counts = {s: np.bincount(cell[status[rows] == s], minlength=bins * bins) for s in STATUS_ORDER}
    total = sum(counts.values())
    nz = np.flatnonzero(total)
    i, j = nz // bins, nz % bins
    frame = pd.DataFrame({"bx": i, "by": j, "x": ex[i], "x2": ex[i + 1], "y": ey[j], "y2": ey[j + 1],
                          "count": total[nz], **{s: counts[s][nz] for s in STATUS_ORDER}})
    frame["regressed_share"] = frame["regressed"] / frame["count"]
    return frame


def rows_in_cell(xy: np.ndarray, rows: np.ndarray, cell: tuple[float, float, float, float]) -> np.ndarray:
    """The rows whose point lies in the cell (x, x2, y, y2), half-open on the high side."""
    x, x2, y, y2 = cell
    p = xy[rows]
    return np.asarray(rows)[(p[:, 0] >= x) & (p[:, 0] < x2) & (p[:, 1] >= y) & (p[:, 1] < y2)]
