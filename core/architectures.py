"""Architecture registry: built-ins, torchvision models by name, user "file.py:Class"."""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from core.errors import VersusError

StateDict = dict[str, torch.Tensor]


class ConvNet(nn.Module):
    """The W&B PyTorch quickstart's two-layer CNN for 1x28x28 input."""

    def __init__(self, kernels: tuple[int, int] = (16, 32), classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(in_channels, kernels[0], kernel_size=5, stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(kernels[0], kernels[1], kernel_size=5, stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc = nn.Linear(7 * 7 * kernels[1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer2(self.layer1(x))
        return self.fc(out.reshape(out.size(0), -1))


def _convnet_from_state(state: StateDict) -> nn.Module:
    """A ConvNet shaped after the kernel and class counts stored in the state_dict."""
    try:
        k0, cin = state["layer1.0.weight"].shape[:2]
        k1 = state["layer2.0.weight"].shape[0]
        classes = state["fc.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise VersusError(f"The checkpoint does not look like a convnet (missing {exc}).") from None
    return ConvNet((int(k0), int(k1)), int(classes), int(cin))


BUILTINS: dict[str, Callable[[StateDict], nn.Module]] = {"convnet": _convnet_from_state}

# torchvision models tried by auto-detection (classification models of modest size).
AUTODETECT_TORCHVISION = [
    "resnet18", "resnet34", "resnet50", "mobilenet_v2", "mobilenet_v3_small",
    "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0",
    "densenet121", "vgg11", "vgg16", "alexnet", "convnext_tiny",
]


def num_classes_from_state(state: StateDict) -> int:
    """Class count read from the last 2-D weight (the classifier) in the state_dict."""
    for key in reversed(list(state)):
        t = state[key]
        if key.endswith("weight") and getattr(t, "ndim", 0) == 2:
            return int(t.shape[0])
    for key in reversed(list(state)):  # 1x1 conv classifiers (squeezenet)
        t = state[key]
        if key.endswith("weight") and getattr(t, "ndim", 0) == 4 and t.shape[2:] == (1, 1):
            return int(t.shape[0])
    raise VersusError("Cannot tell the number of classes: the checkpoint has no final layer weight.")


def torchvision_names() -> list[str]:
    """All classification model names torchvision knows."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _torchvision_model(name: str, classes: int) -> nn.Module:
    import torchvision

    kwargs: dict[str, Any] = {"weights": None, "num_classes": classes}
    if name in ("inception_v3", "googlenet"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = False
    return torchvision.models.get_model(name, **kwargs)


_FILE_SPEC = re.compile(r"^(?P<path>.+\.py):(?P<cls>[A-Za-z_]\w*)(?:\((?P<kwargs>.*)\))?$")


def parse_kwargs(text: str) -> dict[str, Any]:
    """Keyword arguments written as Python literals: "hidden=64, classes=10"."""
    if not text.strip():
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        assert isinstance(call, ast.Call) and not call.args
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except Exception:
        raise VersusError(f"Cannot read the keyword arguments {text!r}; write them as name=value.") from None


def _load_class_from_file(path: str, cls: str) -> type:
    file = Path(path).expanduser()
    if not file.is_file():
        raise VersusError(f"The architecture file {path} does not exist.")
    name = f"versus_user_arch_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise VersusError(f"Importing {path} failed: {type(exc).__name__}: {exc}.") from None
    if not hasattr(module, cls):
        raise VersusError(f"{path} defines no class named {cls}.")
    return getattr(module, cls)


@dataclass(frozen=True)
class ArchSpec:
    """A parsed architecture name: kind is builtin, torchvision or file."""

    kind: str
    name: str
    path: str = ""
    kwargs: tuple[tuple[str, Any], ...] = ()

    def label(self) -> str:
        """How the user wrote it."""
        if self.kind == "file":
            args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
            return f"{self.path}:{self.name}" + (f"({args})" if args else "")
        return self.name


def parse_arch(text: str) -> ArchSpec:
    """Parse "convnet", a torchvision name, or "path/file.py:Class(k=v)"."""
    text = text.strip()
    m = _FILE_SPEC.match(text)
    if m:
        kwargs = parse_kwargs(m.group("kwargs") or "")
        return ArchSpec("file", m.group("cls"), m.group("path"), tuple(sorted(kwargs.items())))
    if text in BUILTINS:
        return ArchSpec("builtin", text)
    if text in torchvision_names():
        return ArchSpec("torchvision", text)
    raise VersusError(
        f"Unknown architecture {text!r}: use a built-in ({', '.join(BUILTINS)}), a torchvision "
        "model name such as resnet18, or path/to/file.py:ClassName."
    )


def build(spec: ArchSpec, state: StateDict) -> nn.Module:
    """An untrained module of the given architecture, shaped to take this state_dict."""
    if spec.kind == "builtin":
        return BUILTINS[spec.name](state)
    if spec.kind == "torchvision":
        return _torchvision_model(spec.name, num_classes_from_state(state))
    cls = _load_class_from_file(spec.path, spec.name)
    try:
        return cls(**dict(spec.kwargs))
    except Exception as exc:
        raise VersusError(f"Creating {spec.label()} failed: {type(exc).__name__}: {exc}.") from None


def fit_problems(module: nn.Module, state: StateDict, limit: int = 4) -> list[str]:
    """Why this state_dict does not load into module: missing, unexpected, mis-shaped keys."""
    want = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    have = {k: tuple(v.shape) for k, v in state.items()}
    problems = []
    missing = [k for k in want if k not in have]
    unexpected = [k for k in have if k not in want]
    shapes = [f"{k} {have[k]} vs {want[k]}" for k in want if k in have and have[k] != want[k]]
    if missing:
        problems.append(f"missing keys {', '.join(missing[:limit])}" + (" ..." if len(missing) > limit else ""))
    if unexpected:
        problems.append(f"unexpected keys {', '.join(unexpected[:limit])}" + (" ..." if len(unexpected) > limit else ""))
    if shapes:
        problems.append(f"shape mismatch {'; '.join(shapes[:limit])}" + (" ..." if len(shapes) > limit else ""))
    return problems


def load_into(spec: ArchSpec, state: StateDict) -> nn.Module:
    """Build the architecture and load the weights strictly, or say what does not fit."""
    module = build(spec, state)
    problems = fit_problems(module, state)
    if problems:
        raise VersusError(f"The checkpoint does not fit {spec.label()}: {'; '.join(problems)}.")
    module.load_state_dict(state, strict=True)
    return module


def _shape_signature(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def autodetect(state: StateDict) -> ArchSpec:
    """The built-in or torchvision architecture whose keys and shapes match the state_dict."""
    have = {k: tuple(v.shape) for k, v in state.items()}
    tried = []
    for name in BUILTINS:
        tried.append(name)
        try:
            module = BUILTINS[name](state)
        except VersusError:
            continue
        if _shape_signature(module) == have:
            return ArchSpec("builtin", name)
    try:
        classes = num_classes_from_state(state)
    except VersusError:
        classes = None
    if classes is not None:
        for name in AUTODETECT_TORCHVISION:
            tried.append(name)
            try:
                with torch.device("meta"):
                    module = _torchvision_model(name, classes)
            except Exception:  # a model whose constructor needs real tensors cannot be matched
                continue
            if _shape_signature(module) == have:
                return ArchSpec("torchvision", name)
    raise VersusError(
        f"Could not detect the architecture (tried {', '.join(tried)}); "
        "name it with --arch (a torchvision name or path/to/file.py:ClassName)."
    )


def first_conv_channels(module: nn.Module) -> int | None:
    """Input channels of the first convolution, or None when there is none."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            return int(m.in_channels)
    return None


def known_normalization(spec: ArchSpec | None) -> tuple[list[float], list[float]] | None:
    """Mean/std the architecture is known to expect (ImageNet stats for torchvision models)."""
    if spec is not None and spec.kind == "torchvision":
        return [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    return None
