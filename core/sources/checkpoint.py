"""Checkpoint files: state_dicts (plain, DataParallel, Lightning, training state, timm saver),
TorchScript, safetensors, and full pickles when trusted."""
from __future__ import annotations

from pathlib import Path

from core import architectures as archs
from core.cache import file_sha256
from core.checkpoints import CHECKPOINT_SUFFIXES, Checkpoint, load_checkpoint
from core.errors import VersusError
from core.preprocessing import recorded_from_args
from core.sources.model import LoadedModel
from core.sources.registry import Kind, register
from core.sources import CheckpointSource


def recognize(spec: str) -> bool:
    """Any path that is not a folder and that the more specific kinds did not claim (a
    missing file is then said to be a missing checkpoint)."""
    return not Path(spec).expanduser().is_dir()


def _arch_spec(src: CheckpointSource, ckpt: Checkpoint) -> tuple[archs.ArchSpec, str]:
    """The architecture to build and how it was chosen (given, recorded, auto-detected)."""
    if src.arch:
        spec = archs.parse_arch(src.arch)
        if spec.kind == "file" and not (src.trust or src.arch_named):
            raise VersusError(
                f"The architecture {spec.label()} is Python code that runs when imported; it was "
                "not imported. Allow it only if you trust the file (--trust, or the 'Trust this "
                "file' box)."
            )
        return spec, "given"
    recorded = archs.recorded_arch(ckpt)
    if recorded is not None:
        return recorded, f"recorded in the {ckpt.format} checkpoint"
    return archs.autodetect(ckpt.state_dict, src.display()), "auto-detected"


def load(src: CheckpointSource) -> LoadedModel:
    """Load the checkpoint and build and fill its architecture."""
    ckpt = load_checkpoint(src.path, trust=src.trust)
    recorded = recorded_from_args(ckpt.extra.get("recorded") or {}, f"the {ckpt.format} checkpoint")
    if ckpt.module is not None:
        note = f"{ckpt.format} (no architecture needed)"
        if src.arch:
            note += f"; --arch {src.arch} ignored"
        return LoadedModel(ckpt.module, ckpt.format, ckpt.format, note, ckpt.sha256, ckpt.epoch, recorded)
    spec, how = _arch_spec(src, ckpt)
    module = archs.load_into(spec, ckpt.state_dict, f"The checkpoint {src.display()}")
    arch_id = spec.label()
    if spec.kind == "file":
        arch_id += ":" + file_sha256(spec.path)
    return LoadedModel(module, ckpt.format, spec.label(), f"{spec.label()} ({how})",
                       f"{ckpt.sha256}/{arch_id}", ckpt.epoch, recorded, archs.arch_defaults(spec),
                       extra={"checkpoint_sha256": ckpt.sha256})


def make(spec: str, arch: str | None, trust: bool) -> CheckpointSource:
    """The source of a checkpoint path."""
    return CheckpointSource(spec, arch, trust)


KIND = register(Kind(
    "checkpoint", f"a checkpoint file ({', '.join(CHECKPOINT_SUFFIXES)})", recognize, make,
    identity=lambda p: file_sha256(Path(p).expanduser()), load=load,
    url_fields=("folder", "ckpt", "path", "arch"),
))
