"""Batched inference of one or more models in one pass over the evaluation data (local engine)."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

from core.datasets import EvalData
from core.errors import VersusError, first_line
from core.inference import scores as sc
from core.inference.features import FeaturePlan, projection_warning
from core.inference.loader import Batch, batches, default_workers, resize_one
from core.limits import check_classes
from core.preprocessing import Preprocessing, apply

Progress = Callable[[int, int, float], None]  # (done, total, images per second)
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class ModelOutput:
    """Probabilities (float32, n x C), optional penultimate features, and what was done to get
    them: meta["precision"], meta["score_conversion"], meta["warnings"] (sentences to show)."""

    scores: np.ndarray
    features: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)


def pick_device(name: str = "auto") -> torch.device:
    """auto picks CUDA when present; cuda without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise VersusError("Device cuda was asked for, but no CUDA GPU is available here.")
    if name not in ("cpu", "cuda"):
        raise VersusError(f"Device {name!r} is not one of auto, cpu, cuda.")
    return torch.device(name)


def check_precision(precision: str) -> torch.dtype:
    """The dtype of a --precision value, or one sentence."""
    if precision not in PRECISIONS:
        raise VersusError(f"Precision {precision!r} is not one of {', '.join(PRECISIONS)}.")
    return PRECISIONS[precision]


def _classifier_input_hook(model: nn.Module, store: list, plan: FeaturePlan | None = None
                           ) -> torch.utils.hooks.RemovableHandle | None:
    """Hook on the last Linear layer that records its input (the penultimate features), kept
    as plan says (projected when all of them would exceed the budget)."""
    last = None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            last = m
    if last is None:
        return None
    keep = plan.apply if plan is not None else (lambda x: x.flatten(1).float().cpu())
    return last.register_forward_hook(lambda _m, inp, _out: store.append(keep(inp[0])))


def group_by_prep(preps: list[Preprocessing]) -> dict[Preprocessing, list[int]]:
    """Model indices per distinct Preprocessing (each group's input is built once per batch)."""
    groups: dict[Preprocessing, list[int]] = {}
    for j, p in enumerate(preps):
        groups.setdefault(p, []).append(j)
    return groups


def shared_size(preps: list[Preprocessing]) -> tuple[int, int] | None:
    """The input size every model shares (the loader resizes to it), else None."""
    sizes = {p.size for p in preps}
    size = next(iter(sizes)) if len(sizes) == 1 else None
    return tuple(size) if size is not None else None


def wants_channels_last(model: nn.Module) -> bool:
    """Convolutional models run channels_last (faster with oneDNN on CPU and cuDNN on GPU)."""
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def set_memory_format(model: nn.Module, channels_last: bool) -> None:
    """Put a model's 4-d weights in channels_last or back in the contiguous format."""
    model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def forward_any(model: nn.Module, x: torch.Tensor, name: str, first_row: int, formats: list[bool],
                j: int) -> torch.Tensor:
    """forward() in model j's memory format; a model that fails channels_last (a .view() on its
    activations, say) is put back to the contiguous format and tried again, once."""
    if not formats[j]:
        return forward(model, x.contiguous(), name, first_row)
    try:
        return forward(model, x, name, first_row)
    except VersusError:
        formats[j] = False
        set_memory_format(model, False)
        return forward(model, x.contiguous(), name, first_row)


def probe_width(model: nn.Module, x: torch.Tensor, name: str, channels_last: bool,
                feats: list[torch.Tensor]) -> int | None:
    """Run a model on the batch's first row alone and refuse an output of more values than the
    class bound before the model sees a full batch (a 10^7-class head on 64 rows is 2.5 GB of
    scores). A model that fails on the row, or returns something else than scores, is left to
    the full batch to name in its usual words; features the probe records are dropped, so
    results do not change. Returns how many outputs the model returned when it returned a
    tuple or list of several (versus takes the first as the scores), else None."""
    mark = len(feats)
    out = None
    for row in ((x[:1], x[:1].contiguous()) if channels_last else (x[:1].contiguous(),)):
        try:
            out = model(row)
            break
        except Exception:  # noqa: BLE001 - the full batch reports it
            continue
    del feats[mark:]
    width = _values_per_row(out)
    if width is not None:
        check_classes(width, name, "returns scores for")
    return len(out) if isinstance(out, (tuple, list)) and len(out) > 1 else None


def _values_per_row(out: object) -> int | None:
    """How many values a model returned for one example (its class scores), if a tensor."""
    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    logits = getattr(out, "logits", None)  # Hugging Face outputs
    if isinstance(logits, torch.Tensor):
        out = logits
    return out.numel() if isinstance(out, torch.Tensor) else None


def group_input(raw: Batch, prep: Preprocessing, device: torch.device, channels_last: bool) -> torch.Tensor:
    """One preprocessing group's model input from a decoded batch, on device."""
    if isinstance(raw, list):
        if prep.size is None:
            raise VersusError("The images differ in size; choose a resize size (--size H[xW]).")
        channels = max(t.shape[0] for t in raw)
        raw = torch.stack([resize_one(t.expand(channels, -1, -1), prep.size) for t in raw])
    x = apply(raw.to(device, non_blocking=True), prep)
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.ndim == 4 else x


def forward(model: nn.Module, x: torch.Tensor, name: str, first_row: int) -> torch.Tensor:
    """One model on one batch: raw outputs as float32 on the CPU, or one sentence naming the
    model and the cause (an exception of any kind, a dict, a wrong shape, non-finite values)."""
    try:
        out = model(x)
    except (VersusError, KeyboardInterrupt):
        raise
    except torch.cuda.OutOfMemoryError:
        raise VersusError(f"{name} ran out of GPU memory on a batch of {x.shape[0]}; lower --batch-size.") from None
    except MemoryError:
        raise VersusError(f"{name} ran out of memory on a batch of {x.shape[0]}; lower --batch-size.") from None
    except Exception as exc:  # torch.jit.Error, ValueError, anything a user's model raises
        raise VersusError(
            f"{name} failed on input of shape {tuple(x.shape)} ({type(exc).__name__}: "
            f"{first_line(exc, 200)}); check the architecture, size and channels."
        ) from None
    out = sc.check_output(out, name, x.shape[0]).detach().float()
    sc.check_finite(out, name, first_row)
    return out.cpu()


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """Mixed precision for bf16/fp16 (weights stay fp32; matmuls and convs run reduced)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=PRECISIONS[precision])


def finish(raws: list[list[torch.Tensor]], feats: list[list[torch.Tensor]], names: list[str],
           precision: str, keep_features: bool, gpu_decoded: bool = False,
           plans: list[FeaturePlan] | None = None,
           outputs: list[int | None] | None = None) -> list[ModelOutput]:
    """Concatenate each model's raw outputs and turn them into probabilities with a record of how;
    outputs[j]: how many outputs model j returned when it returned several (the first is used)."""
    outs = []
    for j, name in enumerate(names):
        raw = torch.cat(raws[j]).numpy() if raws[j] else np.zeros((0, 0), np.float32)
        how = sc.conversion(raw)
        meta: dict[str, Any] = {"precision": precision, "score_conversion": how}
        if gpu_decoded:
            meta["jpeg_decoded_on_gpu"] = True
        if outputs is not None and outputs[j]:
            meta["outputs_returned"] = outputs[j]
        if keep_features and plans is not None and plans[j].record():
            meta["features_projected"] = plans[j].record()
        meta["warnings"] = run_warnings(name, meta)
        outs.append(ModelOutput(
            sc.to_probabilities(raw, how) if raw.size else raw,
            torch.cat(feats[j]).numpy() if keep_features and feats[j] else None,
            meta,
        ))
    return outs


def run_warnings(name: str, meta: dict[str, Any]) -> list[str]:
    """The sentences a user must see about one model's run (rebuilt from meta, so a cached
    result names the model as it is called now)."""
    warnings = [w for w in (sc.conversion_warning(name, meta.get("score_conversion", sc.SOFTMAX)),) if w]
    if meta.get("precision", "fp32") != "fp32":
        warnings.append(f"{name} ran in {meta['precision']}; its scores can differ from fp32 in the last digits.")
    if meta.get("jpeg_decoded_on_gpu"):
        warnings.append(GPU_DECODE_NOTE)
    if meta.get("outputs_returned"):
        warnings.append(f"{name} returned {meta['outputs_returned']} outputs; versus took the first as its "
                        "class scores.")
    if (projected := projection_warning(name, meta.get("features_projected"))) is not None:
        warnings.append(projected)
    return warnings


def default_names(models: list[nn.Module], names: list[str] | None) -> list[str]:
    """Names used in messages: the given ones, else 'model 1', 'model 2', ..."""
    if names is not None:
        return list(names)
    return [f"model {j + 1}" for j in range(len(models))]


def run_models(
    models: list[nn.Module],
    preps: list[Preprocessing],
    data: EvalData,
    device: torch.device,
    batch_size: int = 256,
    keep_features: bool = False,
    progress: Progress | None = None,
    names: list[str] | None = None,
    workers: int | None = None,
    precision: str = "fp32",
) -> list[ModelOutput]:
    """Evaluate every model on data in one pass: each batch is decoded once (by worker threads,
    ahead of the models), preprocessed once per distinct Preprocessing, and fed to the models
    that share it. Results are the same whatever the worker count."""
    if batch_size < 1:
        raise VersusError("Batch size must be at least 1.")
    check_precision(precision)
    names = default_names(models, names)
    workers = default_workers() if workers is None else workers
    groups = group_by_prep(preps)
    cuda = device.type == "cuda"
    formats = [wants_channels_last(m) for m in models]  # True: channels_last
    for m, cl in zip(models, formats):
        m.eval().to(device)
        set_memory_format(m, cl)
    raws: list[list[torch.Tensor]] = [[] for _ in models]
    feats: list[list[torch.Tensor]] = [[] for _ in models]
    n = len(data)
    plans = [FeaturePlan(n) for _ in models]
    hooks = [(_classifier_input_hook(m, feats[j], plans[j]) if keep_features else None) for j, m in enumerate(models)]
    gpu_jpeg = _uses_gpu_decode(data, device)
    outputs: list[int | None] = [None for _ in models]
    start = time.perf_counter()
    try:
        with torch.inference_mode(), autocast(device, precision):
            for lo, hi, raw in _batches(data, batch_size, workers, shared_size(preps), device, gpu_jpeg):
                for prep, members in groups.items():
                    x = group_input(raw, prep, device, any(formats[j] for j in members))
                    for j in members:
                        if lo == 0:
                            outputs[j] = probe_width(models[j], x, names[j], formats[j], feats[j])
                        raws[j].append(forward_any(models[j], x, names[j], lo, formats, j))
                if progress is not None:
                    progress(hi, n, hi / max(time.perf_counter() - start, 1e-9))
    finally:
        for h in hooks:
            if h is not None:
                h.remove()
        for m in models:
            set_memory_format(m, False)
        if cuda:
            for m in models:
                m.to("cpu")
            torch.cuda.empty_cache()
    return finish(raws, feats, names, precision, keep_features, gpu_jpeg, plans, outputs)


GPU_DECODE_NOTE = ("The JPEG images were decoded on the GPU (nvJPEG); pixel values can differ slightly "
                   "from CPU decoding.")


def _uses_gpu_decode(data: EvalData, device: torch.device) -> bool:
    """JPEG folders are decoded on the GPU when the device is CUDA."""
    if device.type != "cuda":
        return False
    from core.inference.gpu_decode import is_jpeg_folder

    return is_jpeg_folder(data)


def _batches(data: EvalData, batch_size: int, workers: int, size: tuple[int, int] | None,
             device: torch.device, gpu_jpeg: bool) -> Iterator[tuple[int, int, Batch]]:
    """The loader's batches, decoded on the GPU (gpu_jpeg) or by CPU worker threads."""
    if gpu_jpeg:
        from core.inference.gpu_decode import gpu_jpeg_batches

        yield from gpu_jpeg_batches(data, batch_size, workers, size, device)
        return
    yield from batches(data, batch_size, workers, size, pin=device.type == "cuda")
