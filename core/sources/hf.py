"""Hugging Face `save_pretrained` folders (config.json + model.safetensors / pytorch_model.bin)."""
from __future__ import annotations

from pathlib import Path

from core.checkpoints import epoch_from_name
from core.hf_models import folder_identity, is_hf_folder, load_hf
from core.sources.model import LoadedModel
from core.sources.registry import Kind, register
from core.sources import CheckpointSource


def load(src: CheckpointSource) -> LoadedModel:
    """Load the folder's model with transformers (local files only)."""
    module, info = load_hf(src.path, trust=src.trust)
    note = f"{info['arch']} (from config.json)"
    if src.arch:
        note += f"; --arch {src.arch} ignored"
    return LoadedModel(module, "huggingface", info["arch"], note, info["identity"],
                       epoch_from_name(Path(src.path).name), info["recorded"],
                       extra={"class_names": info["class_names"], "warnings": info["warnings"]})


KIND = register(Kind(
    "huggingface", "a Hugging Face save_pretrained folder (config.json + model.safetensors)",
    is_hf_folder, lambda s, a, t: CheckpointSource(s, a, t),
    identity=lambda p: folder_identity(Path(p).expanduser()), load=load,
    url_fields=("folder", "ckpt", "path"),
))
