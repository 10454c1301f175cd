"""The one exception type whose message is shown to a user as is."""


class RagError(Exception):
    """A problem the user can fix. The message is one line: what, where, and what to do."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message ("" when it has none): what a one-line error
    shows of a library's multi-line message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
