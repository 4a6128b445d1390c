"""Load a checkpoint file safely, whatever shape its weights were saved in."""
from __future__ import annotations

import argparse
import os
import pickle
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.cache import file_sha256
from core.errors import VersusError, not_found, reason
from core.limits import check_archive, check_classes, check_path_text, check_shapes

StateDict = dict[str, torch.Tensor]

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".safetensors", ".tar")
MODEL_SUFFIXES = (*CHECKPOINT_SUFFIXES, ".onnx")  # the files list_models offers
_EPOCH_IN_NAME = re.compile(r"(?:^|[^a-z])(?:epoch|ep|e)[_=\-]?(\d+)", re.IGNORECASE)
# torch words it "Unsupported global: GLOBAL os.system" or "unsupported GLOBAL posix.system whose
# module posix is blocked", depending on what the pickle asks for
_UNSAFE_GLOBAL = re.compile(r"unsupported (?:global|class)\b:?\s*(?:GLOBAL\s+)?([\w.]+)", re.IGNORECASE)
# Classes a checkpoint may pickle besides tensors and plain data: timm's CheckpointSaver
# stores its argparse.Namespace of training arguments; Lightning's save_hyperparameters stores
# an AttributeDict (a dict subclass), read here as a plain dict under each name Lightning used.
# Nothing here runs code when loaded.
LIGHTNING_ATTRIBUTE_DICTS = ("lightning.fabric.utilities.data.AttributeDict",
                             "lightning_fabric.utilities.data.AttributeDict",
                             "pytorch_lightning.utilities.parsing.AttributeDict")
SAFE_GLOBALS: list = [argparse.Namespace, *((dict, name) for name in LIGHTNING_ATTRIBUTE_DICTS)]
# A single attribute prefix every key may share, stripped before fitting an architecture:
# DataParallel/DDP, torch.compile, and the attribute names LightningModules use most.
WRAPPER_PREFIXES = ("module.", "_orig_mod.", "model.", "net.", "backbone.", "network.")


@dataclass
class Checkpoint:
    """What a checkpoint file holds: a state_dict or a ready module, and what we know of it."""

    path: str
    sha256: str
    format: str
    state_dict: StateDict | None = None
    module: nn.Module | None = None
    epoch: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def epoch_from_name(path: str | os.PathLike) -> int | None:
    """Epoch number written in a filename (epoch_3.pt, model-ep12.ckpt, e5.pth), if any."""
    m = _EPOCH_IN_NAME.search(Path(path).stem)
    return int(m.group(1)) if m else None


def natural_key(text: str) -> list[Any]:
    """Sort key that orders digit runs by value: epoch_2 before epoch_10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def list_models(folder: str | os.PathLike) -> list[Path]:
    """Everything in a folder versus can run: checkpoint and .onnx files, Hugging Face
    save_pretrained subfolders and epoch_N subfolders (one that is not a model says so when
    loaded, rather than drop out of a series unseen). Ordered by the epoch in the name, then
    naturally (epoch_2 before epoch_10); names without an epoch last."""
    from core.hf_models import is_hf_folder

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise VersusError(f"The folder {folder} does not exist.")
    found = [p for p in root.iterdir()
             if (p.is_file() and p.suffix.lower() in MODEL_SUFFIXES)
             or (p.is_dir() and (epoch_from_name(p) is not None or is_hf_folder(p)))]
    epochs = {p: epoch_from_name(p) for p in found}
    return sorted(found, key=lambda p: (epochs[p] is None, epochs[p] or 0, natural_key(p.name)))


def _is_safetensors(path: Path) -> bool:
    """A safetensors file whatever its name: an 8-byte little-endian header length, then a JSON
    object of that length inside the file."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return 0 < int.from_bytes(head[:8], "little") < path.stat().st_size - 8


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):  # not a zip, or a damaged one: torch.load will say
        return False


def _strip_prefix(state: StateDict, prefix: str) -> StateDict:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def strip_wrappers(state: StateDict) -> StateDict:
    """Remove wrapper prefixes every key shares (module., model., net., backbone., ...)."""
    changed = True
    while changed:
        changed = False
        for prefix in WRAPPER_PREFIXES:
            stripped = _strip_prefix(state, prefix)
            if stripped is not state:
                state, changed = stripped, True
    return state


def _recorded(obj: dict[str, Any]) -> dict[str, Any]:
    """Training arguments a checkpoint records: timm's args Namespace, Lightning's
    hyper_parameters; plain values only."""
    found: dict[str, Any] = {}
    for key in ("hyper_parameters", "hparams", "args"):
        value = obj.get(key)
        if isinstance(value, argparse.Namespace):
            value = vars(value)
        if isinstance(value, dict):
            found.update({str(k): v for k, v in value.items()
                          if isinstance(v, (int, float, str, list, tuple, type(None)))})
    return found


def check_state(state: StateDict, where: str) -> None:
    """Refuse a state_dict that declares more parameters or classes than the bounds allow,
    from shapes alone (an expanded or stride-0 tensor costs nothing until it is copied)."""
    check_shapes((tuple(t.shape) for t in state.values()), where)
    from core.architectures import num_classes_from_state

    try:
        classes = num_classes_from_state(state)
    except VersusError:
        return
    check_classes(classes, where)


def check_module(module: nn.Module, where: str) -> None:
    """Refuse a loaded module (TorchScript, a trusted pickle) whose parameters and buffers
    declare more values than the bound, from shapes alone: a stride-0 expanded tensor costs
    nothing until .to(device) or channels_last copies it."""
    tensors = [*module.parameters(), *module.buffers()]
    for sub in module.modules():  # plain tensor attributes of a pickled module
        tensors += [v for v in vars(sub).values() if isinstance(v, torch.Tensor)]
    check_shapes((tuple(t.shape) for t in tensors), where)


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    )


def _unwrap(obj: Any, where: str) -> tuple[StateDict, dict[str, Any], str]:
    """Find the model weights in a loaded object: plain, Lightning, or training-state dicts
    (where: how messages name the file)."""
    if _is_state_dict(obj):
        return _strip_prefix(_strip_prefix(dict(obj), "module."), "_orig_mod."), {}, "state_dict"
    if isinstance(obj, dict):
        for key, fmt in (("state_dict", "lightning"), ("model_state_dict", "training_state"),
                         ("model", "training_state"), ("net", "training_state")):
            inner = obj.get(key)
            if _is_state_dict(inner):
                state = strip_wrappers(dict(inner))
                extra = {k: v for k, v in obj.items() if isinstance(v, (int, float, str))}
                extra["recorded"] = _recorded(obj)
                if "args" in obj and "arch" in obj:
                    fmt = "timm_saver"
                return state, extra, fmt
    raise VersusError(f"{where} holds no model weights (no state_dict or model_state_dict inside).")


def load_checkpoint(path: str | os.PathLike, trust: bool = False) -> Checkpoint:
    """Load a checkpoint on the CPU without running code unless trust is given.

    Handles a plain state_dict, DataParallel ("module." keys), Lightning ("state_dict" with
    "model." keys), training state ("model_state_dict"), TorchScript and safetensors; a fully
    pickled nn.Module only with trust.
    """
    check_path_text(str(path))
    p = Path(path).expanduser()
    if not p.is_file():
        raise not_found(str(path))
    if p.stat().st_size == 0:
        raise VersusError(f"The checkpoint {path} is empty.")
    digest = file_sha256(p)
    name_epoch = epoch_from_name(p)
    if p.suffix.lower() == ".safetensors" or _is_safetensors(p):
        return _load_safetensors(p, digest, name_epoch)
    check_archive(p, f"The checkpoint {path}")
    if _is_torchscript(p):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                module = torch.jit.load(str(p), map_location="cpu")
        except Exception as exc:
            raise VersusError(f"The TorchScript file {path} cannot be loaded: {reason(exc, sentence=True)}.") from None
        check_module(module, f"The TorchScript file {path}")
        return Checkpoint(str(p), digest, "torchscript", module=module.eval(), epoch=name_epoch)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _UNSAFE_GLOBAL.search(str(exc))
        if found is None:
            raise VersusError(
                f"The checkpoint {path} cannot be read (truncated or not a PyTorch file): {reason(exc, sentence=True)}."
            ) from None
        if not trust:
            raise VersusError(
                f"The checkpoint {path} is an unsafe pickle: a full pickle that can run code when "
                f"loaded (it references the blocked global {found.group(1)}); it was not loaded. "
                "Load it only if you trust its author (--trust, or the 'Trust this file' box)."
            ) from None
        obj = _load_trusted(p)
    except Exception as exc:  # torch.load on damaged bytes can raise almost anything
        raise VersusError(
            f"The checkpoint {path} cannot be read (truncated or not a PyTorch file): {reason(exc, sentence=True)}."
        ) from None
    if isinstance(obj, nn.Module):
        check_module(obj, f"The checkpoint {path}")
        return Checkpoint(str(p), digest, "pickled_module", module=obj.eval(), epoch=name_epoch)
    state, extra, fmt = _unwrap(obj, f"The checkpoint {path}")
    check_state(state, f"The checkpoint {path}")
    epoch = extra.get("epoch") if isinstance(extra.get("epoch"), int) else name_epoch
    return Checkpoint(str(p), digest, fmt, state_dict=state, epoch=epoch, extra=extra)


def _load_trusted(p: Path) -> Any:
    try:
        return torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise VersusError(f"The trusted checkpoint {p} cannot be loaded: {reason(exc, sentence=True)}.") from None


def _load_safetensors(p: Path, digest: str, name_epoch: int | None) -> Checkpoint:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(p), framework="pt", device="cpu") as fh:
            meta = fh.metadata() or {}
            keys = list(fh.keys())
            if not keys:
                raise VersusError(f"The safetensors file {p} is empty: it holds no tensors.")
            check_shapes((tuple(fh.get_slice(k).get_shape()) for k in keys), f"The safetensors file {p}")
            state = {k: fh.get_tensor(k) for k in keys}
    except (SafetensorError, OSError, ValueError) as exc:
        raise VersusError(f"The safetensors file {p} cannot be read: {reason(exc, sentence=True)}.") from None
    state = strip_wrappers(state)
    check_state(state, f"The safetensors file {p}")
    epoch = int(meta["epoch"]) if str(meta.get("epoch", "")).isdigit() else name_epoch
    return Checkpoint(str(p), digest, "safetensors", state_dict=state, epoch=epoch, extra=dict(meta))

