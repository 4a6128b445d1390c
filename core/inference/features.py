"""Penultimate features kept for the embedding map and its clusters, bounded in memory.

When n examples of d values would take more than VERSUS_MAX_FEATURE_BYTES (default 1 GiB per
model), each batch is projected as it arrives onto k < d random directions: a fixed Gaussian
matrix scaled by 1/sqrt(k), which keeps distances between examples approximately (the
Johnson-Lindenstrauss lemma), so PCA and k-means on the result tell the same story. The
projection is recorded and said (run_warnings)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from core.limits import FEATURE_BYTES_ENV, bound

DEFAULT_FEATURE_BYTES = 1 << 30
MIN_DIMS = 16
SEED = 0


def feature_budget() -> int:
    """Bytes the features of one model may take (float32), VERSUS_MAX_FEATURE_BYTES."""
    return bound(FEATURE_BYTES_ENV, DEFAULT_FEATURE_BYTES)


def projection(d: int, k: int) -> torch.Tensor:
    """The fixed d x k random projection (the same on every run and machine)."""
    g = torch.Generator().manual_seed(SEED)
    return torch.randn(d, k, generator=g) / math.sqrt(k)


@dataclass
class FeaturePlan:
    """How one model's features are kept: as they are, or projected to fewer values per
    example, decided at the first batch from its width, the row count and the budget."""

    rows: int
    budget: int = field(default_factory=feature_budget)
    dims: tuple[int, int] | None = None  # (values per example, values kept)
    _matrix: torch.Tensor | None = None

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """One batch's features as kept (float32, on the CPU)."""
        x = x.flatten(1).float()
        if self.dims is None:
            d = x.shape[1]
            k = d if self.rows * d * 4 <= self.budget else min(d, max(MIN_DIMS, self.budget // (4 * self.rows)))
            self.dims = (d, k)
            self._matrix = projection(d, k) if k < d else None
        if self._matrix is not None:
            if self._matrix.device != x.device:
                self._matrix = self._matrix.to(x.device)
            x = x @ self._matrix
        return x.cpu()

    def record(self) -> list[int] | None:
        """[values per example, values kept, examples, budget] when projected (for meta), else None."""
        if self.dims is None or self.dims[0] == self.dims[1]:
            return None
        return [self.dims[0], self.dims[1], self.rows, self.budget]


def projection_warning(name: str, record: list[int] | None) -> str | None:
    """The sentence a user must see when a model's features were projected."""
    if not record:
        return None
    d, k, rows, budget = record
    return (f"{name}'s penultimate features ({d:,} values per example, {rows * d * 4 / 1e9:.1f} GB for "
            f"{rows:,} examples) were projected at random to {k:,} values for the embedding map and its "
            f"clusters, to stay under {budget / 2**30:.1f} GiB; raise {FEATURE_BYTES_ENV} to keep them whole.")
