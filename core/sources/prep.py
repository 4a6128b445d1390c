"""Settling each model's preprocessing: from the user, the artifact, the architecture, or a
guess, with a sentence for every guess; the probe's sentence; class order by name."""
from __future__ import annotations

from typing import Any

import numpy as np

from core import architectures as archs
from core.cache import ArrayCache, make_key
from core.datasets import EvalData
from core.errors import VersusError
from core.preprocessing import Preprocessing
from core.sources.model import LoadedModel


def settle_preprocessing(m: LoadedModel, data: EvalData, over: Any,
                         name: str = "The model") -> tuple[Preprocessing, dict[str, str]]:
    """Size, channels, mean/std from, in order: the user, the artifact, the architecture, and
    a guess (the data's default size; no normalization). Values the artifact records are checked
    like the flags; a bad one is refused naming the model (name) and where it was read."""
    rec, arch = m.recorded, m.arch_default
    origins: dict[str, str] = {}
    if over.size is not None:
        size, origins["size"] = over.size, "given"
    elif rec.size is not None:
        size, origins["size"] = rec.size, f"artifact ({rec.origin})"
    elif arch.size is not None:
        size, origins["size"] = arch.size, f"architecture ({arch.origin})"
    elif (fixed := archs.fixed_input_size(m.module)) is not None:
        size, origins["size"] = fixed, "model (the fixed input size of its patch embedding)"
    else:
        size, origins["size"] = data.default_size, "guessed (the data's default size)"
    model_channels = archs.first_conv_channels(m.module)
    if over.channels is not None:
        channels, origins["channels"] = over.channels, "given"
    elif rec.channels is not None:
        channels, origins["channels"] = rec.channels, f"artifact ({rec.origin})"
    elif model_channels is not None:
        channels, origins["channels"] = model_channels, "model (its first convolution)"
    else:
        channels, origins["channels"] = data.native_channels, "guessed (the data's channels)"
    if over.mean is not None or over.std is not None:
        mean, std, origins["normalization"] = over.mean, over.std, "given"
    elif rec.mean is not None or rec.normalized is False:
        mean, std, origins["normalization"] = rec.mean, rec.std, f"artifact ({rec.origin})"
    elif arch.mean is not None and channels == 1 and len(arch.mean) == 3:  # e.g. timm with in_chans=1
        mean, std = (sum(arch.mean) / 3,), (sum(arch.std) / 3,)
        origins["normalization"] = f"guessed ({arch.origin}, averaged over its 3 channels for a 1-channel model)"
    elif arch.mean is not None:
        mean, std, origins["normalization"] = arch.mean, arch.std, f"guessed ({arch.origin})"
    else:
        mean, std, origins["normalization"] = None, None, "guessed (none: nothing records one)"
    try:
        return Preprocessing(size=size, channels=channels, mean=mean, std=std), origins
    except VersusError as exc:
        if not any(origin.startswith("artifact") for origin in origins.values()):
            raise
        raise VersusError(f"{name} records preprocessing ({rec.origin}) that cannot be used: "
                          f"{str(exc).rstrip('.')}. Give --size/--mean/--std (or the sidebar's preprocessing) "
                          "to override it.") from None


def describe(prep: Preprocessing) -> str:
    """Preprocessing in words: "size 28x28, 1 channel, mean/std 0.5/0.5"."""
    size = f"size {prep.size[0]}x{prep.size[1]}" if prep.size else "native size"
    norm = (f"mean {','.join(f'{v:g}' for v in prep.mean)} std {','.join(f'{v:g}' for v in prep.std)}"
            if prep.mean is not None else "no normalization")
    return f"{size}, {prep.channels or 'native'} channel(s), {norm}"


def guessed_warnings(name: str, prep: Preprocessing, origins: dict[str, str]) -> list[str]:
    """One sentence when the size or normalization was guessed."""
    guessed = [part for part in ("size", "normalization") if origins.get(part, "").startswith("guessed")]
    if not guessed:
        return []
    flags = " ".join(f for part, f in (("size", "--size"), ("normalization", "--mean/--std"))
                     if part in guessed)
    verb = "were" if len(guessed) > 1 else "was"
    return [f"{name}: the {' and '.join(guessed)} of its preprocessing {verb} guessed, not read from "
            f"the file ({describe(prep)}); give {flags} if it was trained otherwise."]


def align_classes(scores: np.ndarray, model_names: list[str] | None, data_names: list[str],
                  name: str) -> tuple[np.ndarray, str | None]:
    """Scores with columns in the data's class order when the model names its classes (HF
    id2label) in another order; a sentence when the names differ from the data's."""
    if not model_names or list(model_names) == list(data_names):
        return scores, None
    if sorted(model_names) == sorted(data_names) and len(set(model_names)) == len(model_names):
        order = [model_names.index(c) for c in data_names]
        return scores[:, order], (f"{name}: its classes are named in another order than the data's; "
                                  "the scores were reordered to the data's classes by name.")
    return scores, (f"{name}: its class names ({', '.join(model_names[:5])}...) differ from the data's "
                    f"({', '.join(data_names[:5])}...); classes were matched by position.")


def probe_warnings(r: Any, data: EvalData, device: Any, batch_size: int,
                   cache: ArrayCache) -> list[str]:
    """The probe's sentence for one model (cached on the model, data and preprocessing)."""
    from core.probe import probe, probe_warning

    key = make_key({**r.identity, "probe": 1})
    cache = ArrayCache(f"{cache.root}-probe")  # beside the predictions, not among them
    hit = cache.get(key)
    if hit is not None:
        text = hit["warning"].tobytes().decode("utf-8")
    else:
        result = probe(r.module, r.prep, data, device, r.loaded.recorded.size, batch_size)
        text = probe_warning(r.source.display(), result) or ""
        cache.put(key, {"warning": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)})
    return [text] if text else []
