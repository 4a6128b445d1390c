"""The registry of source kinds: each kind module registers how it recognizes a spec, the
source it makes, its content identity, how a model kind loads, and its URL fields."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.errors import VersusError, not_found
from core.limits import check_path_text



@dataclass(frozen=True)
class Kind:
    """One kind of source.

    recognize(spec) says whether a spec is of this kind (cheap: names and file existence);
    make(spec, arch, trust) builds the source object; identity(path) is the content hash that
    keys caches; load(source) loads a model kind (None for logged-prediction kinds);
    url_fields are the sidebar keys (after "a_"/"b_") a link carries for this kind.
    """

    name: str
    title: str
    recognize: Callable[[str], bool]
    make: Callable[[str, str | None, bool], Any]
    identity: Callable[[str], str] | None = None
    load: Callable[[Any], Any] | None = None
    url_fields: tuple[str, ...] = ()


KINDS: list[Kind] = []


def register(kind: Kind) -> Kind:
    """Add a kind; kinds are tried in registration order (most specific first)."""
    KINDS[:] = [k for k in KINDS if k.name != kind.name] + [kind]
    return kind


def recognize(spec: str) -> Kind:
    """The first kind that recognizes spec, or one sentence saying what was tried."""
    check_path_text(spec)
    for k in KINDS:
        try:
            if k.recognize(spec):
                return k
        except OSError:
            continue
    p = Path(spec).expanduser()
    tried = "; ".join(k.title for k in KINDS)
    if not p.exists():
        raise not_found(spec, "source")
    raise VersusError(f"{spec} is not a source versus can read; it tried {tried}.")


def url_fields() -> tuple[str, ...]:
    """Every sidebar field any kind keeps in a link."""
    seen: dict[str, None] = {}
    for k in KINDS:
        seen.update(dict.fromkeys(k.url_fields))
    return tuple(seen)
