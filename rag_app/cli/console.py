"""The command line's two consoles: results on stdout; progress, notes and errors on stderr.
No syntax highlighting (numbers and paths print as they are), no wrapping of long lines."""

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
