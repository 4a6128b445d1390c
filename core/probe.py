"""The preprocessing probe: on a small sample of the evaluation set, score the chosen
preprocessing against a few candidates and say so (with the numbers and the flags) when one
is clearly better. Never switches silently. Also flags a side near chance when the other is
far above it (a likely architecture or preprocessing mismatch)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from core.datasets import EvalData
from core.errors import VersusError
from core.inference import run_models
from core.predictions import Predictions
from core.preprocessing import Preprocessing

PROBE_SIZE = 512
VARIANT_MAX_SIDE = 1024  # a variant size the probe tries on its sample; the chosen size is always tried
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy of the chosen preprocessing and of the best candidate, on n examples."""

    n: int
    used: Preprocessing
    chosen: float
    best: Preprocessing
    best_accuracy: float

    def clearly_better(self) -> bool:
        """The best candidate beats the chosen one by more than sampling noise explains:
        at least 5 points and three standard errors of a proportion near one half."""
        return self.best_accuracy - self.chosen >= max(0.05, 3 * math.sqrt(0.25 / max(self.n, 1)))


def sample(data: EvalData, limit: int = PROBE_SIZE) -> EvalData:
    """At most limit examples spread evenly over the set (deterministic)."""
    n = len(data)
    if n <= limit:
        return data
    idx = np.linspace(0, n - 1, limit).round().astype(np.int64)
    array = data.array[idx] if data.array is not None else None
    return replace(data, ids=data.ids[idx], truth=data.truth[idx], loader=lambda i: data.image(int(idx[i])),
                   fingerprint=f"{data.fingerprint}[probe{limit}]", array=array, skipped=[])


def candidates(chosen: Preprocessing, data: EvalData, recorded_size: tuple[int, int] | None) -> list[Preprocessing]:
    """The chosen preprocessing and its variants: no normalization, mean/std 0.5, ImageNet
    (3 channels), each at the chosen, recorded and native size (a recorded or native size over
    VARIANT_MAX_SIDE, or one no preprocessing allows, is not tried)."""
    c = chosen.channels or data.native_channels
    norms: list[tuple[Any, Any]] = [(chosen.mean, chosen.std), (None, None), ((0.5,), (0.5,))]
    if c == 3:
        norms.append(IMAGENET)
    others = [s for s in (recorded_size, data.native_size) if s is None or max(s) <= VARIANT_MAX_SIDE]
    out: list[Preprocessing] = []
    for size in dict.fromkeys(s for s in [chosen.size, *others] if s is not None or chosen.size is None):
        for mean, std in norms:
            try:
                p = Preprocessing(size=size, channels=chosen.channels, mean=mean, std=std)
            except VersusError:  # e.g. a recorded size over VERSUS_MAX_SIZE, overridden by the user
                continue
            if p not in out:
                out.append(p)
    if chosen in out:
        out.remove(chosen)
    return [chosen, *out]


def probe(module: nn.Module, chosen: Preprocessing, data: EvalData, device: torch.device,
          recorded_size: tuple[int, int] | None = None, batch_size: int = 256) -> ProbeResult:
    """Score each candidate preprocessing of one model on a sample, in one pass."""
    small = sample(data)
    preps = candidates(chosen, small, recorded_size)
    try:
        outs = run_models([module] * len(preps), preps, small, device, batch_size)
    except Exception:  # a candidate the model cannot take (wrong size) is simply not better
        outs = []
        for p in preps:
            try:
                outs.append(run_models([module], [p], small, device, batch_size)[0])
            except Exception:
                outs.append(None)
    acc = [float((o.scores.argmax(1) == small.truth).mean()) if o is not None and len(o.scores) else -1.0
           for o in outs]
    best = int(np.argmax(acc))
    return ProbeResult(len(small), chosen, acc[0], preps[best], acc[best])


def _flags(p: Preprocessing) -> str:
    parts = []
    if p.size is not None:
        parts.append(f"--size {p.size[0]}" if p.size[0] == p.size[1] else f"--size {p.size[0]}x{p.size[1]}")
    if p.mean is None:
        parts.append("--mean 0 --std 1")
    else:
        parts.append(f"--mean {','.join(f'{v:g}' for v in p.mean)} --std {','.join(f'{v:g}' for v in p.std)}")
    return " ".join(parts)


def _words(p: Preprocessing) -> str:
    size = f"{p.size[0]}x{p.size[1]}" if p.size else "native size"
    norm = "no normalization" if p.mean is None else (
        f"mean {','.join(f'{v:g}' for v in p.mean)} / std {','.join(f'{v:g}' for v in p.std)}")
    return f"{size}, {norm}"


def probe_warning(name: str, result: ProbeResult) -> str | None:
    """A sentence with the numbers and the exact flags when a candidate is clearly better."""
    if not result.clearly_better():
        return None
    return (f"{name} scores {result.chosen:.0%} on {result.n} probe examples with the preprocessing "
            f"used ({_words(result.used)}) but {result.best_accuracy:.0%} with {_words(result.best)}; "
            f"if that is how it was trained, rerun with {_flags(result.best)}.")


def mismatch_warnings(a: Predictions, b: Predictions) -> list[str]:
    """A sentence for a side near chance while the other is far above it: likely the wrong
    architecture (a weightless layer changed) or preprocessing."""
    c = max(a.num_classes, 1)
    chance = 1.0 / c
    out = []
    for mine, other, side in ((a, b, "A"), (b, a, "B")):
        if mine.n == 0 or other.n == 0:
            continue
        acc, other_acc = float(mine.correct.mean()), float(other.correct.mean())
        if acc <= chance + 0.5 * chance and other_acc >= max(0.5, 3 * chance):
            out.append(f"{side} ({mine.meta.get('name') or mine.meta.get('source', side)}) scores "
                       f"{acc:.0%}, near chance ({chance:.0%}), while the other side scores {other_acc:.0%}: "
                       "likely a wrong architecture (a changed layer without weights) or wrong preprocessing.")
    return out
