"""``wsgate local``'s live event lines: which events it prints, and how.

The gateway writes its events to the stack's ``events.jsonl``; the ``wsgate local`` process
follows that file and prints one line per event (``event_lines.format_event``), so the terminal
shows the chat as it happens without the gateway ever waiting on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wsgate.gateway.event_file import rotated_path
from wsgate.local.event_lines import render
from wsgate.local.event_reader import print_events

LogFormat = Literal["text", "json"]


@dataclass(frozen=True)
class EventOutput:
    """``--quiet`` prints none; ``--log-format json`` prints each event's JSON as written."""

    quiet: bool = False
    log_format: LogFormat = "text"
    colour: bool = False
    """ANSI colours: only when the output is a terminal."""


def clear_events(path: Path) -> None:
    """A starting stack's events begin empty: connection ids of a previous run mean nothing."""
    for stale in (path, rotated_path(path)):
        stale.unlink(missing_ok=True)


async def show_events(path: Path, output: EventOutput, echo: Callable[[str], None]) -> None:
    """Print the stack's events as they are written, until cancelled (nothing if quiet)."""
    if output.quiet:
        return

    def show(event: dict[str, Any]) -> None:
        echo(render(event, output.log_format, output.colour))

    await print_events(path, show)
