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

from core.errors import VersusError, reason
from core.preprocessing import Recorded

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
_TIMM_SPEC = re.compile(r"^timm:(?P<name>[\w.\-]+)(?:\((?P<kwargs>.*)\))?$")


def parse_kwargs(text: str) -> dict[str, Any]:
    """Keyword arguments written as Python literals: "hidden=64, classes=10"."""
    if not text.strip():
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call) or call.args or any(kw.arg is None for kw in call.keywords):
            raise ValueError("positional arguments")
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
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
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise VersusError(f"Importing {path} stopped: the file calls sys.exit({exc.code!r}) when imported.") from None
    except Exception as exc:
        sys.modules.pop(name, None)
        raise VersusError(f"Importing {path} failed: {type(exc).__name__}: {reason(exc)}.") from None
    if not hasattr(module, cls):
        raise VersusError(f"{path} defines no class named {cls}.")
    return getattr(module, cls)


@dataclass(frozen=True)
class ArchSpec:
    """A parsed architecture name: kind is builtin, torchvision, timm or file."""

    kind: str
    name: str
    path: str = ""
    kwargs: tuple[tuple[str, Any], ...] = ()

    def label(self) -> str:
        """How the user wrote it."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        args = f"({args})" if args else ""
        if self.kind == "file":
            return f"{self.path}:{self.name}{args}"
        if self.kind == "timm":
            return f"timm:{self.name}{args}"
        return self.name


def parse_arch(text: str) -> ArchSpec:
    """Parse "convnet", a torchvision name, "timm:NAME(k=v)" or "path/file.py:Class(k=v)"."""
    text = text.strip()
    m = _FILE_SPEC.match(text)
    if m:
        kwargs = parse_kwargs(m.group("kwargs") or "")
        return ArchSpec("file", m.group("cls"), m.group("path"), tuple(sorted(kwargs.items())))
    m = _TIMM_SPEC.match(text)
    if m:
        kwargs = parse_kwargs(m.group("kwargs") or "")
        kwargs.pop("pretrained", None)  # never download weights
        return ArchSpec("timm", m.group("name"), "", tuple(sorted(kwargs.items())))
    if text in BUILTINS:
        return ArchSpec("builtin", text)
    if text in torchvision_names():
        return ArchSpec("torchvision", text)
    raise VersusError(
        f"Unknown architecture {text!r}: use a built-in ({', '.join(BUILTINS)}), a torchvision "
        "model name such as resnet18, timm:NAME such as timm:resnet18(in_chans=1), or "
        "path/to/file.py:ClassName."
    )


def build(spec: ArchSpec, state: StateDict) -> nn.Module:
    """An untrained module of the given architecture, shaped to take this state_dict."""
    if spec.kind == "builtin":
        return BUILTINS[spec.name](state)
    if spec.kind == "torchvision":
        return _torchvision_model(spec.name, num_classes_from_state(state))
    if spec.kind == "timm":
        return timm_model(spec, state)
    cls = _load_class_from_file(spec.path, spec.name)
    try:
        module = cls(**dict(spec.kwargs))
    except Exception as exc:
        raise VersusError(f"Creating {spec.label()} failed: {type(exc).__name__}: {reason(exc)}.") from None
    if not isinstance(module, nn.Module):
        raise VersusError(f"{spec.label()} is not a torch.nn.Module (it made a {type(module).__name__}).")
    return module


def first_conv_in(state: StateDict) -> int | None:
    """Input channels of the first 4-D weight in a state_dict (the stem convolution)."""
    for t in state.values():
        if getattr(t, "ndim", 0) == 4:
            return int(t.shape[1])
    return None


def timm_model(spec: ArchSpec, state: StateDict, device: str | None = None) -> nn.Module:
    """timm.create_model(NAME, pretrained=False, ...) shaped for this state_dict: class count
    and input channels from the weights unless the kwargs set them."""
    import timm

    kwargs = dict(spec.kwargs)
    kwargs.pop("pretrained", None)
    kwargs.setdefault("num_classes", num_classes_from_state(state))
    chans = first_conv_in(state)
    if chans is not None and chans != 3:
        kwargs.setdefault("in_chans", chans)
    try:
        if device is not None:
            with torch.device(device):
                return timm.create_model(spec.name, pretrained=False, **kwargs)
        return timm.create_model(spec.name, pretrained=False, **kwargs)
    except RuntimeError as exc:
        if "Unknown model" in str(exc) or "Unknown" in str(exc):
            raise VersusError(f"timm knows no model named {spec.name!r}.") from None
        raise VersusError(f"Creating {spec.label()} failed: {reason(exc)}.") from None
    except (TypeError, ValueError, AssertionError) as exc:
        raise VersusError(f"Creating {spec.label()} failed: {type(exc).__name__}: {reason(exc)}.") from None


def fit_problems(module: nn.Module, state: StateDict, limit: int = 4) -> list[str]:
    """Why this state_dict does not load into module: missing, unexpected, mis-shaped keys."""
    own = module.state_dict()
    want = {k: tuple(v.shape) for k, v in own.items()}
    have = {k: tuple(v.shape) for k, v in state.items()}
    problems = []
    missing = [k for k in want if k not in have]
    unexpected = [k for k in have if k not in want]
    shapes = [f"{k} {have[k]} vs {want[k]}" for k in want if k in have and have[k] != want[k]]
    # an integer tensor where the model holds floats (quantized weights without their scales) would
    # be cast to float by load_state_dict and give nonsense scores
    kinds = [f"{k} ({str(state[k].dtype).removeprefix('torch.')})" for k in own
             if k in state and own[k].is_floating_point() and not state[k].is_floating_point()]
    if missing:
        problems.append(f"missing keys {', '.join(missing[:limit])}" + (" ..." if len(missing) > limit else ""))
    if unexpected:
        problems.append(f"unexpected keys {', '.join(unexpected[:limit])}" + (" ..." if len(unexpected) > limit else ""))
    if shapes:
        problems.append(f"shape mismatch {'; '.join(shapes[:limit])}" + (" ..." if len(shapes) > limit else ""))
    if kinds:
        problems.append(f"integer weights where the model holds floats {', '.join(kinds[:limit])}"
                        + (" ..." if len(kinds) > limit else "") + " (quantized weights need the quantized model)")
    return problems


def shared_prefix(state: StateDict) -> str | None:
    """The first key component every key shares ("net." in net.conv.weight, net.fc.bias)."""
    firsts = {k.split(".", 1)[0] for k in state}
    if len(firsts) == 1 and all("." in k for k in state):
        return firsts.pop() + "."
    return None


def state_variants(state: StateDict) -> list[StateDict]:
    """The state_dict, and the same with a prefix all keys share stripped (a LightningModule
    attribute such as net. or backbone.), for fitting an architecture."""
    prefix = shared_prefix(state)
    if prefix is None:
        return [state]
    return [state, {k[len(prefix):]: v for k, v in state.items()}]


def load_into(spec: ArchSpec, state: StateDict, name: str = "The checkpoint") -> nn.Module:
    """Build the architecture and load the weights strictly (as saved, or with the prefix all
    keys share stripped), or say what does not fit (of the checkpoint called name)."""
    first_error: VersusError | None = None
    for variant in state_variants(state):
        try:
            module = build(spec, variant)
            problems = fit_problems(module, variant)
        except VersusError as exc:
            first_error = first_error or exc
            continue
        if not problems:
            module.load_state_dict(variant, strict=True)
            return module
        first_error = first_error or VersusError(
            f"{name} does not fit {spec.label()}: {'; '.join(problems)}.")
    raise first_error


def _shape_signature(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def autodetect(state: StateDict, name: str | None = None) -> ArchSpec:
    """The built-in, torchvision or timm architecture whose keys and shapes match the
    state_dict (or the state_dict with its shared attribute prefix stripped)."""
    tried: list[str] = []
    for variant in state_variants(state):
        found = _autodetect_one(variant, tried)
        if found is not None:
            return found
    of = f" of {name}" if name else ""
    raise VersusError(
        f"Could not detect the architecture{of} (tried {', '.join(dict.fromkeys(tried))}); "
        "name it with --arch (a torchvision name, timm:NAME, or path/to/file.py:ClassName)."
    )


# timm families tried when a state_dict carries their marker key (cheap: only then are they built).
TIMM_FAMILIES: dict[str, tuple[str, ...]] = {
    "conv_stem.weight": ("efficientnet_b0", "mobilenetv3_large_100", "mobilenetv3_small_100",
                         "mobilenetv2_100"),
    "patch_embed.proj.weight": ("vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224",
                                "deit_tiny_patch16_224"),
    "stem.0.weight": ("convnext_tiny", "convnext_nano", "convnext_atto"),
}


def _timm_candidates(state: StateDict) -> list[ArchSpec]:
    out = []
    for marker, names in TIMM_FAMILIES.items():
        if marker in state:
            kwargs: tuple = ()
            pos = state.get("pos_embed")
            patch = state.get("patch_embed.proj.weight")
            if pos is not None and patch is not None and pos.ndim == 3:
                side = int(round((pos.shape[1] - 1) ** 0.5))
                kwargs = (("img_size", side * int(patch.shape[-1])),)
            out += [ArchSpec("timm", n, "", kwargs) for n in names]
    return out


def _autodetect_one(state: StateDict, tried: list[str]) -> ArchSpec | None:
    have = {k: tuple(v.shape) for k, v in state.items()}
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
        for spec in _timm_candidates(state):
            tried.append(spec.label())
            try:
                module = timm_model(spec, state, device="meta")
            except Exception:  # VersusError or a constructor that needs real tensors
                continue
            if _shape_signature(module) == have:
                return spec
    return None


def first_conv_channels(module: nn.Module) -> int | None:
    """Input channels of the first convolution, or None when there is none."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            return int(m.in_channels)
    return None


def fixed_input_size(module: nn.Module) -> tuple[int, int] | None:
    """The input size a model only accepts, when it states one: a timm vision transformer's
    patch embedding checks img_size (and strict_img_size) on every call."""
    embed = getattr(module, "patch_embed", None)
    size = getattr(embed, "img_size", None)
    if getattr(embed, "strict_img_size", True) and isinstance(size, (tuple, list)) and len(size) == 2 \
            and all(isinstance(s, int) and s > 0 for s in size):
        return int(size[0]), int(size[1])
    return None


IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def known_normalization(spec: ArchSpec | None) -> tuple[list[float], list[float]] | None:
    """Mean/std the architecture is usually trained with (ImageNet stats for torchvision
    models); a guess, not something the file records."""
    if spec is not None and spec.kind in ("torchvision", "timm"):
        return list(IMAGENET[0]), list(IMAGENET[1])
    return None


def arch_defaults(spec: ArchSpec | None) -> Recorded:
    """Preprocessing the architecture suggests (a guess): ImageNet mean/std for torchvision
    and timm models; the convnet takes 28x28 (its classifier is sized for it)."""
    if spec is not None and spec.kind == "builtin" and spec.name == "convnet":
        return Recorded(size=(28, 28), origin="the convnet architecture (28x28 input)")
    known = known_normalization(spec)
    if known is not None:
        return Recorded(mean=tuple(known[0]), std=tuple(known[1]), normalized=True,
                        origin=f"{spec.kind}'s usual ImageNet mean/std")
    return Recorded()


def recorded_arch(ckpt: Any) -> ArchSpec | None:
    """The architecture a checkpoint names itself: timm's CheckpointSaver records args.model."""
    if ckpt.format == "timm_saver" and isinstance(ckpt.extra.get("arch"), str):
        name = ckpt.extra["arch"]
        if _TIMM_SPEC.match(f"timm:{name}"):
            return ArchSpec("timm", name)
    return None
