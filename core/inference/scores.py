"""From a model's raw outputs to probabilities: checked, and converted only when needed."""
from __future__ import annotations

import numpy as np
import torch

from core.errors import VersusError

SUM_TOL = 1e-3  # how far a row of probabilities may sum from 1

SOFTMAX = "softmax"
NONE = "none: the model already outputs probabilities"
EXP = "exp: the model outputs log-probabilities"


def check_output(out: object, name: str, batch: int) -> torch.Tensor:
    """The (batch, classes) float tensor a model returned, or one sentence naming the model and
    what is wrong: not a tensor (a dict, say), another shape, another batch size."""
    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    logits = getattr(out, "logits", None)  # Hugging Face outputs (dict subclasses with .logits)
    if isinstance(logits, torch.Tensor):
        out = logits
    if isinstance(out, dict):
        keys = ", ".join(map(str, list(out)[:5]))
        raise VersusError(f"{name} returned a dict (keys {keys}), not a tensor of class scores.")
    if not isinstance(out, torch.Tensor):
        raise VersusError(f"{name} returned {type(out).__name__}, not a tensor of class scores.")
    if out.ndim != 2:
        raise VersusError(f"{name} returned shape {tuple(out.shape)}, not (batch, classes).")
    if out.shape[0] != batch:
        raise VersusError(f"{name} returned {out.shape[0]} rows for a batch of {batch} images.")
    return out


def check_finite(out: torch.Tensor, name: str, first_row: int) -> None:
    """Refuse non-finite outputs with one sentence naming the model and the first row hit."""
    finite = torch.isfinite(out)
    if not bool(finite.all()):
        row = int((~finite.all(dim=1)).nonzero()[0, 0]) + first_row
        raise VersusError(
            f"{name} outputs non-finite scores (NaN or Inf), first on example {row}; "
            "its weights or input are broken, so versus refuses to compare it."
        )


def conversion(raw: np.ndarray) -> str:
    """How raw outputs (n x C) become probabilities: kept when every row already is a probability
    vector, exp when every row is one in log space, softmax otherwise (logits)."""
    if raw.size == 0:
        return SOFTMAX
    raw64 = raw.astype(np.float64)
    if raw64.min() >= 0 and raw64.max() <= 1 and np.allclose(raw64.sum(axis=1), 1, atol=SUM_TOL):
        return NONE
    if raw64.max() <= 0 and np.allclose(np.exp(raw64).sum(axis=1), 1, atol=SUM_TOL):
        return EXP
    return SOFTMAX


def to_probabilities(raw: np.ndarray, how: str) -> np.ndarray:
    """Apply a conversion() result; float32 rows that sum to 1."""
    t = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))
    if how == SOFTMAX:
        p = torch.softmax(t, dim=1)
    elif how == EXP:
        p = torch.exp(t)
        p = p / p.sum(dim=1, keepdim=True)
    else:
        p = t / t.sum(dim=1, keepdim=True)
    return p.numpy().astype(np.float32)


def conversion_warning(name: str, how: str) -> str | None:
    """The sentence a user must see when the scores were not softmaxed logits."""
    if how == NONE:
        return f"{name} already outputs probabilities; they were used as they are (no second softmax)."
    if how == EXP:
        return f"{name} outputs log-probabilities; they were turned into probabilities with exp (no softmax)."
    return None
