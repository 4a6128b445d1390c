"""Export of a comparison's rows: the examples table people download, and predictions.parquet."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.comparison import STATUS_LABELS

if TYPE_CHECKING:
    from core.comparison import Comparison

PARQUET_BLOCK = 16384  # rows per Parquet row group: memory stays bounded at any n x C


def examples_table(cmp: "Comparison", rows: np.ndarray) -> pd.DataFrame:
    """The given rows as a table people read: id, class names, status, confidences and every
    class score of A and of B."""
    rows = np.asarray(rows, dtype=np.int64)
    names = np.asarray(cmp.class_names, dtype=object)
    out = pd.DataFrame({
        "id": cmp.ids[rows],
        "truth": names[cmp.truth[rows]],
        "guess_a": names[cmp.guess_a[rows]],
        "guess_b": names[cmp.guess_b[rows]],
        "status": cmp.status_names()[rows],
        "confidence_a": cmp.confidence("a")[rows],
        "confidence_b": cmp.confidence("b")[rows],
        "truth_delta": cmp.truth_delta[rows],
    })
    scores = {f"score_a_{k}": cmp.a.scores[rows, j] for j, k in enumerate(cmp.class_names)}
    scores |= {f"score_b_{k}": cmp.b.scores[rows, j] for j, k in enumerate(cmp.class_names)}
    return pd.concat([out, pd.DataFrame(scores)], axis=1)


def _block(cmp: "Comparison", rows: slice) -> pa.Table:
    """One block of predictions.parquet: id, truth, guess_a, guess_b, status, score_a_*, score_b_*."""
    columns = {
        "id": pa.array(cmp.ids[rows]),
        "truth": pa.array(cmp.truth[rows]),
        "guess_a": pa.array(cmp.guess_a[rows]),
        "guess_b": pa.array(cmp.guess_b[rows]),
        "status": pa.array(STATUS_LABELS[cmp.status[rows]].astype(str)),
    }
    for side, p in (("a", cmp.a), ("b", cmp.b)):
        block = np.ascontiguousarray(p.scores[rows].T)
        columns |= {f"score_{side}_{c}": pa.array(block[k]) for k, c in enumerate(cmp.class_names)}
    return pa.table(columns)


def write_predictions(cmp: "Comparison", path: Path, block: int = PARQUET_BLOCK) -> None:
    """DIR/predictions.parquet: one row per example (id, truth, guess_a, guess_b, status,
    score_a_<class>..., score_b_<class>...), written a block of rows at a time."""
    writer = None
    try:
        for start in range(0, max(cmp.n, 1), block):
            table = _block(cmp, slice(start, start + block))
            writer = writer or pq.ParquetWriter(path, table.schema, use_dictionary=["id", "status"])
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
