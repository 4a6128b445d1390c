"""Short names that tell sources apart: the file name, or as many trailing path parts as it
takes when the file names are equal ("run1/best.pt" vs "run2/best.pt")."""
from __future__ import annotations

from pathlib import PurePath


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
