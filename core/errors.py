"""The one exception type for mistakes a user can make."""


class VersusError(Exception):
    """A user-caused problem, described in one clear sentence.

    The CLI prints it on stderr and exits 2; the app shows it with st.error and keeps running.
    """
