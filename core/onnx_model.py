"""ONNX models run by onnxruntime behind an nn.Module, so the one-pass inference takes them
like any other model: input name, layout and batch size are read from the model."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import VersusError, reason
from core.limits import check_classes, check_shapes
from core.preprocessing import Recorded


def _dim(d: Any) -> int | None:
    return d if isinstance(d, int) and d > 0 else None


class OnnxModule(nn.Module):
    """Wraps an onnxruntime InferenceSession: NCHW float batches in, logits out. A model with
    a fixed batch size gets the batch in chunks of that size (the last one padded)."""

    def __init__(self, path: str | os.PathLike):
        super().__init__()
        import onnxruntime as ort

        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                     if p in ort.get_available_providers()]
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise VersusError(f"The ONNX file {path} cannot be loaded: {reason(exc)}.") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise VersusError(f"The ONNX model {path} takes {len(inputs)} inputs; versus feeds one image batch.")
        inp = inputs[0]
        if len(inp.shape) != 4:
            raise VersusError(f"The ONNX model {path} takes input of rank {len(inp.shape)}, not an image batch (rank 4).")
        self.input_name = inp.name
        dims = [_dim(d) for d in inp.shape]
        self.batch = dims[0]
        self.channels_last = dims[3] in (1, 3) and dims[1] not in (1, 3)
        c, h, w = (dims[3], dims[1], dims[2]) if self.channels_last else (dims[1], dims[2], dims[3])
        self.channels, self.size = c, (h, w) if h and w else None
        self.dtype = np.float16 if "float16" in inp.type else np.float32
        outputs = self.session.get_outputs()
        out = outputs[0]
        self.classes = _dim(out.shape[-1]) if out.shape else None
        self.warnings = [] if len(outputs) == 1 else [
            f"The ONNX model {path.name} has {len(outputs)} outputs; versus took the first, "
            f"'{out.name}', as its class scores."]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arr = x.detach().float().cpu().numpy()
        if self.channels_last:
            arr = arr.transpose(0, 2, 3, 1)
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        n = len(arr)
        step = self.batch or n
        outs = []
        for lo in range(0, n, step):
            chunk = arr[lo:lo + step]
            if self.batch and len(chunk) < self.batch:
                pad = np.zeros((self.batch - len(chunk), *chunk.shape[1:]), dtype=chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            try:
                res = self.session.run(None, {self.input_name: chunk})[0]
            except Exception as exc:
                raise VersusError(f"The ONNX model cannot take input of shape {chunk.shape}: "
                                  f"{reason(exc)}; check the size and channels.") from None
            outs.append(np.asarray(res)[: min(step, n - lo)])
        return torch.from_numpy(np.concatenate(outs).astype(np.float32)).to(x.device)

    def recorded(self) -> Recorded:
        """Input size and channels the model fixes."""
        if self.size is None and self.channels is None:
            return Recorded()
        return Recorded(size=self.size, channels=self.channels if self.channels in (1, 3) else None,
                        origin="the ONNX input shape")


def check_onnx_size(path: Path) -> None:
    """Bound the declared initializer sizes before a session is built."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise VersusError(f"The ONNX file {path} cannot be read: {reason(exc)}.") from None
    check_shapes((tuple(t.dims) for t in model.graph.initializer), f"The ONNX file {path}")
    for out in model.graph.output[:1]:
        dims = out.type.tensor_type.shape.dim
        if dims and dims[-1].HasField("dim_value"):
            check_classes(int(dims[-1].dim_value), f"The ONNX file {path}")


def load_onnx(path: str | os.PathLike) -> OnnxModule:
    """An OnnxModule for the file, after the size bounds."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise VersusError(f"The ONNX file {path} does not exist.")
    if p.stat().st_size == 0:
        raise VersusError(f"The ONNX file {path} is empty.")
    check_onnx_size(p)
    return OnnxModule(p)
