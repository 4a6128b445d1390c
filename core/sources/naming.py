"""Short names that tell sources apart: the file name, or as many trailing path parts as it
takes when the file names are equal ("run1/best.pt" vs "run2/best.pt")."""
from __future__ import annotations

import copy
from pathlib import PurePath
from typing import Any


def short_names(paths: list[str]) -> list[str]:
    """For each path, the shortest tail of its parts that no other path shares."""
    parts = [PurePath(p).parts or (p,) for p in paths]
    names = []
    for i, mine in enumerate(parts):
        others = [o for j, o in enumerate(parts) if j != i and o != mine]
        k = 1
        while k < len(mine) and any(o[-k:] == mine[-k:] for o in others):
            k += 1
        names.append("/".join(mine[-k:]))
    return names


def preprocessing_words(prep: dict | None) -> str:
    """A side's preprocessing in words, each part with where it came from."""
    if not isinstance(prep, dict) or not prep:
        return "none (logged predictions)"
    origins = prep.get("from") or {}
    size = prep.get("size")
    size_text = f"size {size[0]}x{size[1]}" if size else "native size"
    mean, std = prep.get("mean"), prep.get("std")
    norm = (f"mean {','.join(f'{v:g}' for v in mean)} std {','.join(f'{v:g}' for v in std)}"
            if mean else "no normalization")

    def origin(part: str) -> str:
        return f" ({origins[part]})" if part in origins else ""

    return f"{size_text}{origin('size')}, {norm}{origin('normalization')}"


def side_summary(meta: dict) -> dict[str, str]:
    """What the Overview header and the report say about one side: name, full path,
    architecture, format, epoch, preprocessing."""
    epoch = meta.get("epoch")
    return {
        "name": str(meta.get("name") or meta.get("source") or ""),
        "source": str(meta.get("path") or meta.get("source") or ""),
        "architecture": str(meta.get("arch_note") or meta.get("arch") or "none (logged predictions)"),
        "format": str(meta.get("format") or ""),
        "epoch": "" if epoch is None else str(epoch),
        "preprocessing": preprocessing_words(meta.get("preprocessing")),
    }


def add_side_notes(pa: Any, pb: Any) -> tuple[Any, Any]:
    """pa and pb as shallow copies whose meta holds what depends on the pairing: the short
    distinguishing name (meta "name") and, for a side near chance while the other is far above
    it, a warning. The inputs are left alone (a cache may share them with other pairings)."""
    from core.probe import mismatch_warnings

    paths = [str(p.meta.get("path") or p.meta.get("source") or "") for p in (pa, pb)]
    out = []
    for p, name in zip((pa, pb), short_names(paths)):
        p.guess  # computed once on the shared object, so each rerun's copies carry it (an argmax over n x C)
        own = copy.copy(p)
        own.meta = {**p.meta, "name": name, "warnings": list(p.meta.get("warnings") or [])}
        out.append(own)
    for text in mismatch_warnings(*out):
        out[0 if text.startswith("A ") else 1].meta["warnings"].append(text)
    return out[0], out[1]
