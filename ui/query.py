"""Shareable state: the page, the sources and the page filters in the URL query parameters.

Read once per session into st.session_state before the sidebar draws (so every widget
starts from the link), written back from st.session_state after the page has drawn.
Only the keys below travel; secrets and the trust switches never do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import streamlit as st

from core.comparison import SORTS, STATUS_FILTERS
from core.datasets import DATA_KINDS
from core.demo import demo_dir
from core.confusion import PAIR_ORDERS
from core.sources import url_fields
from ui import wandb_sidebar
from ui.sidebar import SOURCE_KINDS

RESTORED = "_query_restored"
NOTICES = "_query_notices"
PAGE_PARAM = "page"
PAGE_SIZES = (10, 20, 50, 100)
OTHER_SIDE = ("any", "right", "wrong")
TOP_K = 10  # classes per score chart
DEMO = "demo"  # how the embedded demo's checkpoint folder is named in links


@dataclass(frozen=True)
class Field:
    """One value kept in the URL: its kind (str, int, bool, list, range), default and choices."""

    kind: str
    default: Any = None
    choices: tuple | None = None


# Radio-button fields of the source widgets: their choices (the rest are free text).
_SOURCE_CHOICES = {"wb_where": wandb_sidebar.WHERE, "wb_what": wandb_sidebar.WHAT}


def _source_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for side in ("a", "b"):
        fields[f"{side}_kind"] = Field("str", SOURCE_KINDS[0], tuple(SOURCE_KINDS))
        for name in url_fields():  # every kind's fields, from the registry (core/sources)
            choices = _SOURCE_CHOICES.get(name)
            fields[f"{side}_{name}"] = Field("str", choices[0], tuple(choices)) if choices else Field("str", "")
    fields["data_kind"] = Field("str", "digits", tuple(DATA_KINDS))
    fields["data_path"] = Field("str", "")
    for name in ("size", "mean", "std"):
        fields[f"prep_{name}"] = Field("str", "")
    fields["prep_channels"] = Field("str", "auto", ("auto", "1 (grayscale)", "3 (RGB)"))
    fields["device"] = Field("str", "auto", ("auto", "cpu", "cuda"))
    fields["batch_size"] = Field("int", 256)
    fields["intersect"] = Field("bool", False)
    return fields


SOURCE_FIELDS = _source_fields()
DEMO_KEYS = ("a_folder", "b_folder")
PAGE_FIELDS: dict[str, dict[str, Field]] = {
    "examples": {
        "ex_status": Field("str", "disagree", tuple(STATUS_FILTERS)),
        "ex_truth": Field("list", []),
        "ex_guess_a": Field("list", []),
        "ex_guess_b": Field("list", []),
        "ex_conf_a": Field("range", (0.0, 1.0)),
        "ex_conf_b": Field("range", (0.0, 1.0)),
        "ex_id": Field("str", ""),
        "ex_sort": Field("str", "delta", tuple(SORTS)),
        "ex_desc": Field("bool", False),
        "ex_size": Field("int", PAGE_SIZES[0], PAGE_SIZES),
        "ex_page": Field("int", 1),
        "ex_k": Field("int", TOP_K),
    },
    "errors": {
        "er_truth": Field("list", []),
        "er_guess": Field("list", []),
        "er_conf": Field("range", (0.0, 1.0)),
        "er_other": Field("str", "any", OTHER_SIDE),
        "er_page": Field("int", 1),
    },
    "by_guess": {
        "bg_guess": Field("str", ""),
    },
    "regressions": {
        "rg_space": Field("str", "b", ("a", "b", "scores")),
        "rg_status": Field("list", ["regressed", "fixed", "both wrong", "both right"]),
    },
    "confusion": {
        "cf_norm": Field("bool", False),
        "cell_truth": Field("str", ""),
        "cell_guess": Field("str", ""),
        "cf_order": Field("str", "count", tuple(PAIR_ORDERS)),
        "cf_classes": Field("list", []),
    },
    "curves": {
        "curves_class": Field("str", ""),
    },
    "calibration": {
        "calibration_class": Field("str", ""),
    },
}
ALL_FIELDS = SOURCE_FIELDS | {k: f for fields in PAGE_FIELDS.values() for k, f in fields.items()}


def _decode(field: Field, raw: list[str]) -> Any:
    """The typed value of a query parameter's raw strings; ValueError when it does not parse."""
    if field.kind == "list":
        return list(raw)
    if field.kind == "range":
        low, high = (float(x) for x in raw)
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError("range outside [0, 1]")
        return (low, high)
    (text,) = raw
    if field.kind == "int":
        return int(text)
    if field.kind == "bool":
        if text not in ("0", "1"):
            raise ValueError("not 0 or 1")
        return text == "1"
    return text


def _encode(field: Field, value: Any) -> str | list[str] | None:
    """The query string form of a value, or None when it is the default (kept out of the URL)."""
    if value is None or value == field.default or (field.kind == "range" and tuple(value) == field.default):
        return None
    if field.kind == "list":
        return [str(v) for v in value] or None
    if field.kind == "range":
        return [f"{float(v):g}" for v in value]
    if field.kind == "bool":
        return "1" if value else "0"
    return str(value)


def slug(page: Any) -> str:
    """The name of a page in links: its URL path, or its title for the default page."""
    return page.url_path or page.title.lower().replace(" ", "_")


def _read_params() -> list[str]:
    """Copy the known, well-formed query parameters into st.session_state; notices for the rest."""
    ignored: list[str] = []
    for key in st.query_params:
        raw = st.query_params.get_all(key)
        if key == PAGE_PARAM:
            continue
        field = ALL_FIELDS.get(key)
        try:
            if field is None:
                raise ValueError("unknown")
            value = _decode(field, raw)
            if field.choices is not None and value not in field.choices:
                raise ValueError("not a choice")
        except ValueError:
            ignored.append(f"{key}={','.join(raw)}")
            continue
        st.session_state[key] = _from_link(key, value)
    return [f"Ignored link settings this app does not know: {'; '.join(ignored)}."] if ignored else []


def restore(current: Any, pages: Sequence[Any]) -> None:
    """Once per session: copy known query parameters into st.session_state, switch to the
    page the link names, and say which parameters were ignored."""
    for note in st.session_state.pop(NOTICES, []):
        st.warning(note)
    if st.session_state.get(RESTORED):
        return
    st.session_state[RESTORED] = True
    notices = _read_params()
    wanted = st.query_params.get(PAGE_PARAM)
    if wanted and wanted != slug(current):
        target = next((p for p in pages if slug(p) == wanted), None)
        if target is not None:
            st.session_state[NOTICES] = notices
            st.switch_page(target)
        notices.append(f"The link names a page that does not exist ({wanted!r}); showing {current.title}.")
    for note in notices:
        st.warning(note)


def _from_link(key: str, value: Any) -> Any:
    """A link's value as the session holds it: the named demo becomes its checkpoint folder."""
    return str(demo_dir()) if key in DEMO_KEYS and value == DEMO else value


def _to_link(key: str, value: Any) -> Any:
    """A session value as a link holds it: the demo's folder (a cache path) is named, not spelled."""
    return DEMO if key in DEMO_KEYS and value and str(value) == str(demo_dir()) else value


def write(current: Any) -> None:
    """Write the current page, sources and this page's filters to the URL query parameters."""
    sync(slug(current))


def sync(page_slug: str) -> None:
    """Write page_slug, the sources and that page's view state to the URL query parameters
    (also from inside a fragment, whose reruns do not reach app.py)."""
    params: dict[str, str | list[str]] = {PAGE_PARAM: page_slug}
    for key, field in (SOURCE_FIELDS | PAGE_FIELDS.get(page_slug, {})).items():
        if key in st.session_state:
            encoded = _encode(field, _to_link(key, st.session_state[key]))
            if encoded is not None:
                params[key] = encoded
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if {k: st.query_params.get_all(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(params)


def keep_known(key: str, allowed: Sequence[str]) -> None:
    """Drop values of a class-valued filter that are not among allowed, with a notice."""
    value = st.session_state.get(key)
    if not value:
        return
    values = value if isinstance(value, list) else [value]
    unknown = [v for v in values if v not in allowed]
    if not unknown:
        return
    st.warning(f"Ignored unknown classes from the link: {', '.join(map(repr, unknown))}.")
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in allowed]
    else:
        del st.session_state[key]


def defaults(page: str) -> None:
    """Give each of the page's filter keys its default where the session has no value yet."""
    for key, field in PAGE_FIELDS[page].items():
        if key not in st.session_state:
            st.session_state[key] = list(field.default) if field.kind == "list" else field.default


def clamp_page(key: str, pages: int, signature: tuple) -> None:
    """Keep the page number key within 1..pages, back to 1 whenever signature (the filters) changes."""
    sig_key = f"_{key}_signature"
    previous = st.session_state.get(sig_key)
    st.session_state[sig_key] = signature
    page = st.session_state.get(key, 1)
    if previous is not None and previous != signature:
        page = 1
    st.session_state[key] = min(max(int(page), 1), pages)
