"""Hugging Face `save_pretrained` image classifiers, loaded from local files only."""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.cache import file_sha256
from core.errors import VersusError, reason
from core.limits import check_archive, check_classes, check_shapes
from core.preprocessing import Recorded

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


def is_hf_folder(path: str | os.PathLike) -> bool:
    """A folder with config.json and weights in a name save_pretrained writes."""
    p = Path(path).expanduser()
    return p.is_dir() and (p / "config.json").is_file() and any((p / w).is_file() for w in WEIGHT_FILES)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a file, or one sentence saying why not."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise VersusError(f"The {what} {path} cannot be read as JSON ({type(exc).__name__}).") from None
    if not isinstance(value, dict):
        raise VersusError(f"The {what} {path} does not hold a JSON object.")
    return value


def folder_identity(folder: Path) -> str:
    """Content hash of the files that decide the model's output, after checking that none is
    read through a link out of the folder."""
    check_links(folder)
    return _content_hash(folder)


def _content_hash(folder: Path) -> str:
    """Hash of the names and contents of config, preprocessing and weight files (each file's hash
    memoized by file_sha256, so the app's cache key and the load read each file once)."""
    files = [folder / n for n in ("config.json", "preprocessor_config.json", *WEIGHT_FILES)]
    files += sorted(folder.glob("model-*.safetensors")) + sorted(folder.glob("pytorch_model-*.bin"))
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + file_sha256(f).encode())
    return h.hexdigest()


def class_names(config: dict[str, Any]) -> list[str] | None:
    """Class names from id2label in id order, unless they are the generic LABEL_k."""
    raw = config.get("id2label")
    if not isinstance(raw, dict) or not raw:
        return None
    try:
        pairs = sorted((int(k), str(v)) for k, v in raw.items())
    except (TypeError, ValueError):
        return None
    names = [v for _, v in pairs]
    if all(_GENERIC_LABEL.match(n) for n in names):
        return None
    return names


def recorded_preprocessing(folder: Path, config: dict[str, Any]) -> tuple[Recorded, list[str]]:
    """size / mean / std / rescaling from preprocessor_config.json (and num_channels from the
    config), with warnings where versus cannot follow it."""
    warnings: list[str] = []
    channels = config.get("num_channels") if config.get("num_channels") in (1, 3) else None
    f = folder / "preprocessor_config.json"
    if not f.is_file():
        return Recorded(channels=channels, origin="config.json" if channels else ""), warnings
    pc = read_json(f, "preprocessor config")
    from core.preprocessing import _floats, _size  # the shared readers of recorded values

    size = _size(pc.get("size")) if pc.get("do_resize", True) else None
    if size is None and isinstance(pc.get("crop_size"), (dict, int)) and pc.get("do_center_crop"):
        size = _size(pc.get("crop_size"))
    normalized = bool(pc.get("do_normalize", True))
    mean = _floats(pc.get("image_mean")) if normalized else None
    std = _floats(pc.get("image_std")) if normalized else None
    if normalized and (mean is None or std is None):
        normalized, mean, std = None, None, None
    factor = pc.get("rescale_factor", 1 / 255)
    if pc.get("do_rescale", True) is False or (isinstance(factor, (int, float)) and abs(factor * 255 - 1) > 1e-6):
        warnings.append(f"{folder.name}: its preprocessor_config.json rescales pixels by "
                        f"{factor if pc.get('do_rescale', True) else 1}, but versus always scales them to [0, 1].")
    return Recorded(size, channels, mean, std, normalized, "preprocessor_config.json"), warnings


class HFClassifier(nn.Module):
    """A transformers image classifier taking a pixel batch and returning logits."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=x).logits


def _check_size(folder: Path, config: dict[str, Any], names: list[str] | None) -> None:
    labels = config.get("num_labels") or (len(config["id2label"]) if isinstance(config.get("id2label"), dict) else 0)
    if isinstance(labels, int):
        check_classes(labels, f"The Hugging Face folder {folder}")
    for weights in [folder / "pytorch_model.bin", *sorted(folder.glob("pytorch_model-*.bin"))]:
        if weights.is_file():
            check_archive(weights, f"The weights {weights}")
    st = folder / "model.safetensors"
    if st.is_file():
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(st), framework="pt", device="cpu") as fh:
                check_shapes((tuple(fh.get_slice(k).get_shape()) for k in fh.keys()),
                             f"The Hugging Face folder {folder}")
        except (SafetensorError, OSError, ValueError) as exc:
            raise VersusError(f"The weights {st} cannot be read: {str(exc)[:160]}.") from None


def _check_declared(folder: Path, trust: bool) -> None:
    """Refuse a config.json that declares a model larger than the bound (a huge hidden size
    with few stored weights: transformers would initialize the missing ones), counted on the
    meta device, which allocates nothing. A config transformers cannot build is left to
    from_pretrained to report."""
    from transformers import AutoConfig, AutoModelForImageClassification

    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=trust)
        with torch.device("meta"):
            model = AutoModelForImageClassification.from_config(config, trust_remote_code=trust)
    except Exception:  # noqa: BLE001 - from_pretrained names what is wrong in its own words
        return
    check_shapes((tuple(t.shape) for t in model.parameters()), f"The Hugging Face folder {folder}")


def check_links(folder: Path) -> None:
    """Refuse a folder holding a link that resolves outside it: versus reads nothing outside the
    folders it is given. A hub cache snapshot (models--X/snapshots/REV) may link into its own
    models--X/blobs/, as huggingface_hub lays it out."""
    root = folder.resolve()
    allowed = [root] + ([root.parent.parent / "blobs"] if root.parent.name == "snapshots" else [])
    for dirpath, dirnames, filenames in os.walk(root):  # links are not followed, only checked
        for name in (*dirnames, *filenames):
            entry = Path(dirpath) / name
            if entry.is_symlink():
                target = entry.resolve()
                if not any(target == a or a in target.parents for a in allowed):
                    raise VersusError(f"{entry.relative_to(root)} in the Hugging Face folder {folder} links outside "
                                      f"it (to {target}); versus reads nothing outside the folders it is given. "
                                      "Copy the file into the folder instead.")


def load_hf(folder: str | os.PathLike, trust: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """The model of a save_pretrained folder (local files only; remote code only with trust)
    and what the folder says: architecture, class names, preprocessing, warnings."""
    p = Path(folder).expanduser()
    check_links(p)  # before any byte is read
    config = read_json(p / "config.json", "model config")
    if config.get("auto_map") and not trust:
        raise VersusError(f"The Hugging Face folder {folder} needs its own Python code (auto_map in "
                          "config.json) that runs when loaded; it was not loaded. Allow it only if you "
                          "trust its author (--trust, or the 'Trust this file' box).")
    names = class_names(config)
    _check_size(p, config, names)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForImageClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    _check_declared(p, trust)
    try:
        model = AutoModelForImageClassification.from_pretrained(
            str(p), local_files_only=True, trust_remote_code=trust)
    except Exception as exc:  # transformers raises many types for a bad folder
        if "ignore_mismatched_sizes" in str(exc):  # its text points at a report it logs, not shown here
            raise VersusError(f"The Hugging Face folder {folder} holds weights whose shapes differ from the "
                              "model its config.json describes (num_labels or a layer size changed after "
                              "saving?); it was not loaded.") from None
        raise VersusError(f"The Hugging Face folder {folder} cannot be loaded as an image classifier: "
                          f"{type(exc).__name__}: {reason(exc)}.") from None
    recorded, warnings = recorded_preprocessing(p, config)
    arch = (config.get("architectures") or [type(model).__name__])[0]
    info = {"arch": str(arch), "class_names": names, "recorded": recorded, "warnings": warnings,
            "identity": _content_hash(p)}
    return HFClassifier(model.eval()), info
