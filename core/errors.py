"""The one exception type for mistakes a user can make, and how other exceptions are worded
inside its sentences."""
from __future__ import annotations

import re


class VersusError(Exception):
    """A user-caused problem, described in one clear sentence.

    The CLI prints it on stderr and exits 2; the app shows it with st.error and keeps running.
    """


def shorten(text: str, limit: int) -> str:
    """text cut at a word boundary (never mid-word) to at most limit characters, marked [...]."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " [...]"


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (its type name when empty), shortened to limit."""
    lines = str(exc).strip().splitlines()
    return shorten(lines[0] if lines else type(exc).__name__, limit)


_WEIGHTS_ONLY_PREAMBLE = "Weights only load failed"
_WEIGHTS_ONLY_CAUSE = re.compile(r"WeightsUnpickler error:\s*(\S[^\n]*)")


def reason(exc: BaseException, limit: int = 200, sentence: bool = False) -> str:
    """The first line of an exception's message (its first sentence when sentence is set: torch
    appends paragraphs of advice), shortened at a word boundary, without closing punctuation so
    it can end the caller's sentence; torch's weights_only preamble gives way to its cause."""
    text = first_line(exc, 10_000).strip()
    if text.startswith(_WEIGHTS_ONLY_PREAMBLE):
        cause = _WEIGHTS_ONLY_CAUSE.search(str(exc))
        text = cause.group(1).strip() if cause else text
    if sentence:
        text = re.split(r"(?<=[.?!])\s+(?=[A-Z])", text, maxsplit=1)[0]
    return shorten(text.rstrip(".?! "), limit)


def not_found(path: str, what: str = "checkpoint file") -> VersusError:
    """One sentence for a path that is not the file asked for: missing, a folder, a device or a
    pipe, or a name with a :KEY[:VERSION] tail that only a W&B offline run folder takes."""
    from pathlib import Path

    p = Path(path).expanduser()
    if p.is_dir():
        return VersusError(f"{path} is a folder, not a {what}.")
    if p.is_file():
        return VersusError(f"{path} is a file, not a {what}.")
    if p.exists():
        return VersusError(f"{path} is not a regular file (a device or a pipe); give a {what}.")
    head = path.split(":", 1)[0]
    if ":" in path and head and Path(head).expanduser().exists():
        return VersusError(f"{path} does not exist: {head} does, but only a W&B offline run folder takes "
                           ":KEY[:VERSION] after its name.")
    return VersusError(f"{path} does not exist.")
