"""Artifacts the series tests make: Lightning-shaped epoch checkpoints of a tiny ConvNet
trained a few steps per epoch on digits."""
from __future__ import annotations

from pathlib import Path

import torch

from core.architectures import ConvNet
from core.datasets import digits_split
from core.demo import DEMO_PREP
from core.preprocessing import apply

KERNELS = (4, 8)
STEPS_PER_EPOCH = 5


def lightning_folder(folder: Path, epochs: int = 4, classes: int = 10, seed: int = 0) -> list[Path]:
    """epoch=N-step=M.ckpt files as Lightning's ModelCheckpoint writes them: the weights under
    "state_dict" with the LightningModule's "model." prefix, epoch, global_step, hyper_parameters."""
    torch.manual_seed(seed)
    split = digits_split()
    tr = split["train_idx"]
    x = apply(torch.from_numpy(split["images"][tr]).float().div(255.0).unsqueeze(1), DEMO_PREP)
    y = torch.from_numpy(split["target"][tr]).long() % classes
    model = ConvNet(KERNELS, classes=classes)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    folder.mkdir(parents=True, exist_ok=True)
    paths, step = [], 0
    for epoch in range(epochs):
        for _ in range(STEPS_PER_EPOCH):
            idx = torch.randint(0, len(y), (64,))
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        ckpt = {"epoch": epoch, "global_step": step, "pytorch-lightning_version": "2.4.0",
                "state_dict": {f"model.{k}": v.clone() for k, v in model.state_dict().items()},
                "hyper_parameters": {"lr": 3e-3, "kernels": list(KERNELS)}}
        path = folder / f"epoch={epoch}-step={step}.ckpt"
        torch.save(ckpt, path)
        paths.append(path)
    return paths
