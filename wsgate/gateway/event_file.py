"""The gateway's events as JSON lines in a file, for terminals that are not its own process.

``wsgate local`` prints them as they happen and ``wsgate logs`` reads them later, both from
this file in the stack's state directory. Writing happens inside :meth:`EventBus.publish`, on
the event loop, so it must cost no more than a buffered write: lines go into a 64 KiB buffer
that is flushed shortly after (one ``write`` per burst of events, not one per event). The file
is bounded: past ``max_bytes`` it is renamed to ``<name>.1`` (replacing the previous one) and a
new file is started, so a long session keeps at most twice ``max_bytes`` on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import BinaryIO

from wsgate.gateway.events import GatewayEvent

MAX_BYTES = 8 * 1024 * 1024
FLUSH_DELAY_S = 0.05
"""How long an event may sit in the buffer: short enough that a watching terminal feels live."""


def rotated_path(path: Path) -> Path:
    """Where the previous file goes when ``path`` is full (readers read it first)."""
    return path.with_name(path.name + ".1")


def event_line(event: GatewayEvent) -> bytes:
    """One event as one line of compact JSON (the same object the SSE stream carries)."""
    return json.dumps(event.to_json(), separators=(",", ":"), default=str).encode() + b"\n"


class EventFile:
    """An :data:`~wsgate.gateway.events.EventSink` appending to ``path``, rotated at a size."""

    def __init__(
        self, path: Path, max_bytes: int = MAX_BYTES, flush_delay_s: float = FLUSH_DELAY_S
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.flush_delay_s = flush_delay_s
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = path.open("ab", buffering=64 * 1024)
        self._size = self._file.tell()
        self._flush: asyncio.TimerHandle | None = None

    def __call__(self, event: GatewayEvent) -> None:
        line = event_line(event)
        if self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
        self._file.write(line)
        self._size += len(line)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # published outside a loop (tests, shutdown): write it now
            self.flush()
            return
        self._flush = loop.call_later(self.flush_delay_s, self.flush)

    def flush(self) -> None:
        self._flush = None
        if not self._file.closed:
            self._file.flush()

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self.path, rotated_path(self.path))
        self._file = self.path.open("wb", buffering=64 * 1024)
        self._size = 0

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self.flush()
        self._file.close()
