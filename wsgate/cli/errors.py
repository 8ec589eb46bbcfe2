"""Every mistake a user makes on the command line is one line on stderr, never a traceback.

Click's default for a usage error is three lines (usage, a hint, the error); here it is the
error and where to read more, on one line, with click's exit codes (2 usage, 1 otherwise).
"""

from __future__ import annotations

import click


def one_line(error: click.ClickException) -> str:
    """``Error: <message>`` on one line; a usage error also names the command's ``--help``."""
    message = " ".join(error.format_message().split())
    if isinstance(error, click.UsageError) and error.ctx is not None:
        message += f" (see '{error.ctx.command_path} --help')"
    return f"Error: {message}"
