"""`.onnx` files, run with onnxruntime (CPU; CUDA when its provider is present)."""
from __future__ import annotations

from pathlib import Path

from core.cache import file_sha256
from core.checkpoints import epoch_from_name
from core.onnx_model import load_onnx
from core.sources.model import LoadedModel
from core.sources.registry import Kind, register
from core.sources import CheckpointSource


def load(src: CheckpointSource) -> LoadedModel:
    """The ONNX model behind an nn.Module; its fixed input size and channels are recorded."""
    module = load_onnx(src.path)
    note = "onnx (no architecture needed)" + (f"; --arch {src.arch} ignored" if src.arch else "")
    return LoadedModel(module, "onnx", "onnx", note, file_sha256(Path(src.path).expanduser()),
                       epoch_from_name(src.path), module.recorded(), extra={"warnings": module.warnings})


KIND = register(Kind(
    "onnx", "an ONNX file (.onnx)", lambda s: s.lower().endswith(".onnx") and not Path(s).expanduser().is_dir(),
    lambda s, a, t: CheckpointSource(s, a, t), identity=lambda p: file_sha256(Path(p).expanduser()),
    load=load, url_fields=("folder", "ckpt", "path"),
))
