"""The embedded demo: the W&B quickstart CNN trained on scikit-learn's digits, one
checkpoint per epoch, made deterministically on first use into the cache folder."""
from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from core.architectures import ConvNet
from core.cache import atomic_write_bytes, default_root
from core.datasets import digits_split
from core.errors import VersusError
from core.preprocessing import Preprocessing, apply

EPOCHS = 5
VERSION = "v2"  # v2: each checkpoint records its preprocessing
DEMO_PREP = Preprocessing(size=(28, 28), channels=1)


def demo_dir(root: str | os.PathLike | None = None) -> Path:
    """Folder holding the demo's epoch checkpoints."""
    return (Path(root) if root is not None else default_root()) / "demo" / VERSION


def demo_checkpoints(root: str | os.PathLike | None = None) -> list[Path]:
    """Paths of epoch_1.pt .. epoch_5.pt, training them first when any is missing."""
    folder = demo_dir(root)
    paths = [folder / f"epoch_{e}.pt" for e in range(1, EPOCHS + 1)]
    if not all(p.is_file() for p in paths):
        try:
            train_demo(folder)
        except OSError as exc:
            raise VersusError(f"The demo's checkpoints cannot be written into the cache folder {folder} "
                              f"({exc.strerror or exc}); set VERSUS_CACHE_DIR to a folder you can write.") from None
    return paths


def train_demo(folder: Path, seed: int = 0) -> None:
    """Train ConvNet on the digits training split with Adam (lr 1e-3, batch 128, as in the
    W&B quickstart) and save a training-state checkpoint after every epoch."""
    torch.manual_seed(seed)
    split = digits_split()
    tr = split["train_idx"]
    images = torch.from_numpy(split["images"][tr]).float().div(255.0).unsqueeze(1)
    x_all = apply(images, DEMO_PREP)
    y_all = torch.from_numpy(split["target"][tr]).long()
    model = ConvNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(y_all), generator=gen)
        for lo in range(0, len(order), 128):
            idx = order[lo : lo + 128]
            loss = torch.nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        buf = io.BytesIO()
        torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": opt.state_dict(),
                    "hyper_parameters": {"image_size": 28, "channels": 1, "normalize": False}}, buf)
        atomic_write_bytes(folder / f"epoch_{epoch}.pt", buf.getvalue())

