"""The source objects a spec becomes: a model to run, or logged predictions to read."""
from __future__ import annotations

from dataclasses import dataclass

from core.tables import ColumnMap


@dataclass(frozen=True)
class CheckpointSource:
    """A model file or folder (checkpoint, Hugging Face folder, ONNX) and how to build it.
    trust allows full pickles and .py architectures; arch_named says the user named the
    architecture file on the command line (so importing it needs no trust box)."""

    path: str
    arch: str | None = None
    trust: bool = False
    label: str | None = None
    arch_named: bool = False

    def display(self) -> str:
        """Short name for tables and captions."""
        return self.label or self.path


@dataclass(frozen=True)
class TableSource:
    """Logged predictions: kind "file" (a `.table.json` file, a run_table artifact folder, or a
    CSV/Parquet file), "offline" (an offline run folder) or "wandb" (entity/project/run_id);
    key and version pick a run's table (None: its only table, latest version). digest, when
    known, is the content digest of that version, so cache keys follow content."""

    kind: str
    location: str
    key: str | None = None
    version: str | None = None
    mapping: ColumnMap = ColumnMap()
    label: str | None = None
    digest: str | None = None

    def display(self) -> str:
        """Short name for tables and captions."""
        return self.label or ":".join(p for p in (self.location, self.key, self.version) if p)


@dataclass(frozen=True)
class PrepOverrides:
    """Preprocessing the user asked for; None fields are inferred."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
