"""What loading any model kind gives: the module, what it is, and what preprocessing its
artifact records."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from core.preprocessing import Recorded


@dataclass
class LoadedModel:
    """A model ready to run: the module, its format and architecture, its content identity
    (cache key part), epoch, and the preprocessing the artifact records."""

    module: nn.Module
    format: str
    arch_label: str
    arch_note: str
    identity: str
    epoch: int | None = None
    recorded: Recorded = Recorded()
    arch_default: Recorded = Recorded()  # what the architecture implies (guessed)
    extra: dict[str, Any] = field(default_factory=dict)
