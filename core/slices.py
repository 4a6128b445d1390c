"""Slices where B regresses: candidate slices over the true class, A's and B's confidence bins,
image properties, extra columns of a logged table and clusters of the embedding map, each with
the paired exact mid-p test of fixed vs regressed inside it, Holm-adjusted over all candidates,
ranked by regressed minus fixed. Each slice keeps its row indices so it opens as examples."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.comparison import FIXED, REGRESSED, Comparison
from core.metrics import holm
from core.paired import midp_many

QUANTILE_BINS = 5
MAX_LEVELS = 30
MIN_SIZE = 5
CLUSTERS = 8
ALPHA = 0.05


@dataclass
class Slice:
    """One candidate slice: what it is, its size, fixed and regressed counts, p-values, rows."""

    family: str
    name: str
    n: int
    fixed: int
    regressed: int
    p_value: float = 1.0
    p_value_holm: float = 1.0
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)

    @property
    def net(self) -> int:
        """Regressed minus fixed: how many more examples B breaks than it mends here."""
        return self.regressed - self.fixed

    @property
    def significant(self) -> bool:
        """B is significantly worse here: more regressed than fixed, Holm p < 0.05."""
        return self.regressed > self.fixed and self.p_value_holm < ALPHA


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def quantile_edges(v: np.ndarray, bins: int = QUANTILE_BINS) -> np.ndarray:
    """Distinct quantile edges of finite values; interpolated unless the values span more than
    float64 holds (1e308 and -1e308), where interpolating would overflow: then data values."""
    lo, hi = float(v.min()), float(v.max())
    method = "linear" if hi / 2 - lo / 2 < np.finfo(np.float64).max / 2 else "inverted_cdf"
    return np.unique(np.quantile(v, np.linspace(0, 1, bins + 1), method=method))


def binned(values: np.ndarray, bins: int = QUANTILE_BINS) -> dict[str, np.ndarray]:
    """Masks of the quantile bins of a numeric column's finite values (labels 'lo–hi'), and
    one bin each for inf and -inf; NaN rows fall in none; a constant column gives no candidates."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    out = {}
    if ok.any() and v[ok].min() < v[ok].max():
        edges = quantile_edges(v[ok], bins)
        idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
        for k in range(len(edges) - 1):
            mask = ok & (idx == k)
            if mask.any():
                hi = "]" if k == len(edges) - 2 else ")"
                out[f"[{_fmt(edges[k])}, {_fmt(edges[k + 1])}{hi}"] = mask
    for value, label in ((np.inf, "= inf"), (-np.inf, "= -inf")):
        mask = v == value
        if mask.any():
            out[label] = mask
    return out


def levels(values: pd.Series, max_levels: int = MAX_LEVELS) -> dict[str, np.ndarray]:
    """Masks per value of a column: numeric columns with many values in quantile bins, others by
    value (the max_levels most frequent)."""
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(str)
    if pd.api.types.is_numeric_dtype(s) and s.nunique(dropna=True) > 10:
        return binned(s.to_numpy(dtype=np.float64))
    s = s.astype("string")
    counts = s.value_counts(dropna=True)
    if len(counts) < 2:
        return {}
    return {f"= {v}": (s == v).fillna(False).to_numpy(bool) for v in counts.index[:max_levels]}


def candidates(cmp: Comparison, image_props: pd.DataFrame | None = None, extra: pd.DataFrame | None = None,
               clusters: np.ndarray | None = None) -> list[tuple[str, str, np.ndarray]]:
    """(family, name, mask) of every candidate slice."""
    out: list[tuple[str, str, np.ndarray]] = []
    for k, name in enumerate(cmp.class_names):
        out.append(("true class", f"= {name}", cmp.truth == k))
    for side in ("a", "b"):
        for label, mask in binned(cmp.confidence(side)).items():
            out.append((f"{side.upper()}'s confidence", label, mask))
    for frame, prefix in ((image_props, "image "), (extra, "")):
        if frame is None:
            continue
        for col in frame.columns:
            for label, mask in levels(frame[col]).items():
                out.append((f"{prefix}{col}", label, mask))
    if clusters is not None:
        for k in np.unique(clusters):
            out.append(("map cluster", f"= {int(k) + 1}", clusters == k))
    return out


def find_slices(cmp: Comparison, image_props: pd.DataFrame | None = None, extra: pd.DataFrame | None = None,
                clusters: np.ndarray | None = None, min_size: int = MIN_SIZE) -> list[Slice]:
    """Every candidate slice of at least min_size examples with its paired test, Holm-adjusted
    over all of them, ranked by regressed minus fixed (then by p-value)."""
    fixed_all, regressed_all = cmp.status == FIXED, cmp.status == REGRESSED
    found = []
    for family, name, mask in candidates(cmp, image_props, extra, clusters):
        mask = np.asarray(mask, bool)
        n = int(mask.sum())
        if n < min_size or n == cmp.n:
            continue
        found.append(Slice(family, name, n, int((mask & fixed_all).sum()), int((mask & regressed_all).sum()),
                           rows=np.flatnonzero(mask)))
    if not found:
        return []
    p = midp_many(np.array([s.fixed for s in found]), np.array([s.regressed for s in found]))
    adj = holm(p)
    for s, pv, pa in zip(found, p, adj):
        s.p_value, s.p_value_holm = float(pv), float(pa)
    return sorted(found, key=lambda s: (-s.net, s.p_value))


def clusters_of(xy: np.ndarray, k: int = CLUSTERS, seed: int = 0) -> np.ndarray:
    """k-means cluster per point of the 2D map (fitted on at most 20,000 points)."""
    from sklearn.cluster import KMeans

    xy = np.asarray(xy, dtype=np.float32)
    fit = xy if len(xy) <= 20000 else xy[np.random.default_rng(seed).choice(len(xy), 20000, replace=False)]
    k = min(k, len(np.unique(fit, axis=0)))  # never more clusters than distinct points
    if k < 2:
        return np.zeros(len(xy), np.int64)
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(fit)
    return model.predict(xy).astype(np.int64)


def slices_table(slices: list[Slice], top: int | None = None) -> pd.DataFrame:
    """The slices as a table people read, worst first."""
    rows = [{"slice": f"{s.family} {s.name}", "examples": s.n, "fixed": s.fixed, "regressed": s.regressed,
             "regressed - fixed": s.net, "p-value": s.p_value, "Holm p": s.p_value_holm,
             "significant": s.significant} for s in slices[:top]]
    return pd.DataFrame(rows, columns=["slice", "examples", "fixed", "regressed", "regressed - fixed",
                                       "p-value", "Holm p", "significant"])
