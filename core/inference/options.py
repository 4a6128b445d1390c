"""Which engine runs the models, and the default batch size (the options themselves are in
core/run_options.py, free of torch)."""
from __future__ import annotations

import torch
from torch import nn

from core.datasets import EvalData
from core.preprocessing import Preprocessing
from core.run_options import InferenceOptions

CPU_BATCH, GPU_BATCH = 64, 256  # measured: resnet18 on 2 cores runs 1.6x faster at 64 than at 256


def default_batch_size(device: torch.device) -> int:
    """The batch size when none is given: small on CPU (cache-friendly), large on a GPU."""
    return GPU_BATCH if device.type == "cuda" else CPU_BATCH


def run_engine(options: InferenceOptions, models: list[nn.Module], preps: list[Preprocessing], data: EvalData,
               device: torch.device, batch_size: int | None = None, keep_features: bool = False, progress=None,
               names: list[str] | None = None) -> list:
    """run_models on the engine the options name; the outputs are the same either way.
    batch_size None: default_batch_size(device)."""
    batch_size = batch_size or default_batch_size(device)
    if options.engine == "ray":
        from core.inference.ray_engine import run_models_ray

        return run_models_ray(models, preps, data, device, batch_size, keep_features, progress, names,
                              options.precision, options.ray_address)
    from core.inference.runner import run_models

    return run_models(models, preps, data, device, batch_size, keep_features, progress, names,
                      options.workers, options.precision)
