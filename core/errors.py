"""The one exception type for mistakes a user can make."""


class VersusError(Exception):
    """A user-caused problem, described in one clear sentence.

    The CLI prints it on stderr and exits 2; the app shows it with st.error and keeps running.
    """


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (its type name when empty), cut to limit."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
