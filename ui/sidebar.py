"""The shared sidebar: sources for A and B, evaluation data, preprocessing, device."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from core.cache import atomic_write_bytes, default_root
from core.checkpoints import CHECKPOINT_SUFFIXES, MODEL_SUFFIXES, epoch_from_name, list_models
from core.datasets import DATA_KINDS
from core.demo import demo_checkpoints, demo_dir
from core.errors import VersusError
from core.prep_args import parse_floats, parse_size
from core.run_options import ENGINES, PRECISIONS, InferenceOptions
from core.sources import CheckpointSource, PrepOverrides, TableSource, parse_source
from ui import wandb_sidebar

SOURCE_KINDS = ["Epoch folder", "Checkpoint file", "Upload", *wandb_sidebar.KINDS]
DATA_LABELS = {
    "digits": "Digits (embedded demo)", "imagefolder": "ImageFolder", "mnist": "MNIST",
    "fashionmnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100", "svhn": "SVHN",
}


@dataclass(frozen=True)
class Settings:
    """Everything the sidebar chose; None for a side whose source is not ready."""

    a: CheckpointSource | TableSource | None
    b: CheckpointSource | TableSource | None
    data: str
    over: PrepOverrides
    device: str
    batch_size: int
    options: InferenceOptions = InferenceOptions()


def _ensure_demo() -> Path:
    folder = demo_dir()
    if not all((folder / f"epoch_{e}.pt").is_file() for e in range(1, 6)):
        with st.spinner("Training the demo checkpoints on digits (first run only, under a minute)..."):
            demo_checkpoints()
    return folder


def _epoch_label(path: Path) -> str:
    epoch = epoch_from_name(path)
    return f"{path.name}  (epoch {epoch})" if epoch is not None else path.name


def _follow_a() -> None:
    """B's folder follows A's while B still shows A's previous folder (never silently across runs)."""
    new = st.session_state.get("a_folder", "")
    if st.session_state.get("b_folder") in (None, "", st.session_state.get("_a_folder_last")):
        st.session_state["b_folder"] = new
    st.session_state["_a_folder_last"] = new


def _folder_source(side: str, default_index: int) -> str | None:
    folder = st.text_input("Folder of checkpoints", key=f"{side}_folder",
                           on_change=_follow_a if side == "a" else None,
                           help="A folder of epoch checkpoints (.pt, .ckpt, .safetensors, .onnx, ...) or of "
                                "Hugging Face epoch_N/ folders; sorted by epoch (epoch_2 before epoch_10). "
                                "B follows A's folder until you change B's.")
    if not folder.strip():
        return None
    a_folder = str(st.session_state.get("a_folder", "")).strip() if st.session_state.get("a_kind") == "Epoch folder" \
        else None
    same_as_a = side == "b" and folder.strip() == a_folder
    if side == "b" and a_folder is not None and not same_as_a:
        st.caption("B reads another folder than A: this compares across runs.")
    try:
        files = list_models(folder.strip())
        if not files:
            raise VersusError(f"{folder} holds no checkpoint files ({', '.join(MODEL_SUFFIXES)}) "
                              "and no Hugging Face or epoch_N folders.")
    except VersusError as exc:
        if not same_as_a:  # B on A's folder: A's message already says it
            st.error(str(exc))
        return None
    names = [f.name for f in files]
    key = f"{side}_ckpt"
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[default_index if default_index >= 0 else len(names) + default_index]
    choice = st.selectbox("Checkpoint", names, key=key,
                          format_func=lambda n: _epoch_label(Path(folder.strip()) / n))
    return str(Path(folder.strip()) / choice)


def _upload_source(side: str) -> str | None:
    up = st.file_uploader("Checkpoint file", key=f"{side}_upload",
                          type=[s.lstrip(".") for s in CHECKPOINT_SUFFIXES])
    if up is None:
        return None
    saved = st.session_state.setdefault("_uploads", {})
    if up.file_id not in saved:  # hash and copy an upload once, not on every rerun
        data = up.getvalue()
        target = default_root() / "uploads" / hashlib.sha256(data).hexdigest()[:16] / Path(up.name).name
        if not target.is_file():
            atomic_write_bytes(target, data)
        saved[up.file_id] = str(target)
    return saved[up.file_id]


def _side(side: str, title: str, default_index: int) -> CheckpointSource | TableSource | None:
    st.subheader(title)
    kind = st.selectbox("Source", SOURCE_KINDS, key=f"{side}_kind")
    if kind in wandb_sidebar.KINDS:
        picked = wandb_sidebar.draw(side, kind)
        if not isinstance(picked, wandb_sidebar.ModelFile):
            return picked
        path = picked.path
    elif kind == "Epoch folder":
        path = _folder_source(side, default_index)
    elif kind == "Checkpoint file":
        path = st.text_input("Checkpoint path", key=f"{side}_path",
                             help="A checkpoint file, an .onnx file, or a Hugging Face save_pretrained "
                                  "folder (read from local files only).").strip() or None
    else:
        path = _upload_source(side)
    arch = st.text_input(
        "Architecture", key=f"{side}_arch", placeholder="auto-detect",
        help="convnet, a torchvision name (resnet18, ...), timm:NAME(k=v), or path/to/file.py:ClassName(k=v) "
             "(a .py file runs when imported: it needs 'Trust this file'). "
             "Blank: auto-detect; TorchScript needs none.",
    ).strip() or None
    trust = st.checkbox(
        "Trust this file (may run code)", key=f"{side}_trust",
        help="A fully pickled model, or an architecture given as a .py file, can run any code "
             "when loaded. Tick only for files whose author you trust; otherwise only plain "
             "weights are read.",
    )
    if path is None:
        return None
    label = Path(path).name
    if kind == "Checkpoint file":  # any model kind the registry knows
        try:
            src = parse_source(path, arch, trust)
        except VersusError as exc:
            st.error(str(exc))
            return None
        if isinstance(src, TableSource):
            st.error(f"{label} holds logged predictions, not a model: choose the matching source kind.")
            return None
    return CheckpointSource(path, arch, trust, label=label)


def _data() -> str:
    st.subheader("Evaluation data")
    kind = st.selectbox("Dataset", list(DATA_KINDS), key="data_kind", format_func=DATA_LABELS.get)
    if kind == "digits":
        return "digits"
    path = st.text_input("Folder" if kind == "imagefolder" else "Dataset root", key="data_path",
                         help="Read from local files only; nothing is downloaded.").strip()
    return f"{kind}:{path}" if path else ""


def _overrides() -> PrepOverrides:
    with st.expander("Preprocessing"):
        st.caption("Pixels are scaled to [0, 1], then resized, converted and normalized. "
                   "Blank fields are inferred from the data and the model.")
        size = st.text_input("Resize to (H or HxW)", key="prep_size", placeholder="auto").strip()
        channels = st.selectbox("Channels", ["auto", "1 (grayscale)", "3 (RGB)"], key="prep_channels")
        mean = st.text_input("Normalize mean", key="prep_mean", placeholder="none, e.g. 0.485,0.456,0.406").strip()
        std = st.text_input("Normalize std", key="prep_std", placeholder="none, e.g. 0.229,0.224,0.225").strip()
    return PrepOverrides(
        size=parse_size(size) if size else None,
        channels=None if channels == "auto" else int(channels[0]),
        mean=parse_floats(mean, "Mean") if mean else None,
        std=parse_floats(std, "Std") if std else None,
    )


def _defaults() -> None:
    if "a_folder" not in st.session_state:
        folder = str(_ensure_demo())
        st.session_state["a_folder"] = folder
        st.session_state.setdefault("b_folder", folder)
        st.session_state["_a_folder_last"] = folder


def draw() -> Settings | None:
    """Draw the sidebar and return the settings, or None when one of them is invalid."""
    _defaults()
    with st.sidebar:
        a = _side("a", "Model A", 0)
        b = _side("b", "Model B", -1)
        data = _data()
        try:
            over = _overrides()
        except VersusError as exc:
            st.error(str(exc))
            return None
        st.subheader("Run")
        devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        device = st.selectbox("Device", devices, key="device")
        batch = int(st.number_input("Batch size", 1, 4096, 256, key="batch_size"))
        try:
            options = _engine()
        except VersusError as exc:
            st.error(str(exc))
            return None
    return Settings(a, b, data, over, device, batch, options)


def _engine() -> InferenceOptions:
    """Precision, engine (local or a Ray cluster), decoding workers and bad-image handling: the
    command line's inference flags."""
    with st.expander("Inference engine"):
        precision = st.selectbox("Precision", PRECISIONS, key="precision",
                                 help="fp32 gives the CPU's numbers; bf16/fp16 are faster on a GPU and said everywhere.")
        engine = st.selectbox("Engine", ENGINES, key="engine",
                              help="local: this process. ray: Ray Data actors on a local instance or the cluster below.")
        address = st.text_input("Ray address", key="ray_address", placeholder="a local instance",
                                disabled=engine != "ray", help="HOST:PORT of a cluster started with `ray start --head`.")
        workers = st.number_input("Decoding workers", 0, 256, value=None, key="workers", placeholder="auto",
                                  help="Threads decoding images ahead of the models (auto: one per core but one).")
        skip = st.checkbox("Skip bad images", key="skip_bad_images",
                           help="Leave out unreadable, truncated or oversized images (listed) instead of stopping.")
    return InferenceOptions(workers=None if workers is None else int(workers), precision=precision, engine=engine,
                            ray_address=(address.strip() or None) if engine == "ray" else None,
                            skip_bad_images=skip)
