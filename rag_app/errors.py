"""The one exception type whose message is shown to a user as is."""


class RagError(Exception):
    """A problem the user can fix. The message is one line: what, where, and what to do."""
