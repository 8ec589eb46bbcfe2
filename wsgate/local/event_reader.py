"""Reading the gateway's event file (see ``wsgate.gateway.event_file``) as it grows.

A reader keeps its open file and position, so each :meth:`EventFileReader.poll` returns only
the complete lines written since the last one (a line still being written waits for the next
poll). When the gateway rotates the file, the reader finishes the old one (same inode, renamed)
before it opens the new one, so no event is lost or read twice across a rotation.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from wsgate.gateway.event_file import rotated_path

POLL_S = 0.1


def _parse(line: bytes) -> dict[str, Any] | None:
    """An event, or None for a line that is not one (a file truncated by a crash)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


class EventFileReader:
    """Incremental reader of one event file, across its rotations."""

    def __init__(self, path: Path, include_rotated: bool = True) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._inode: int | None = None
        self._partial = b""
        self._pending: list[dict[str, Any]] = []
        if include_rotated:
            self._pending = self._whole(rotated_path(path))

    @staticmethod
    def _whole(path: Path) -> list[dict[str, Any]]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        return [e for line in data.splitlines() if (e := _parse(line)) is not None]

    def _open(self) -> None:
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            return
        self._inode = os.fstat(self._file.fileno()).st_ino
        self._partial = b""

    def _replaced(self) -> bool:
        try:
            return self.path.stat().st_ino != self._inode
        except FileNotFoundError:
            return False

    def _read(self) -> list[dict[str, Any]]:
        assert self._file is not None
        data = self._partial + self._file.read()
        *lines, self._partial = data.split(b"\n")
        return [e for line in lines if line and (e := _parse(line)) is not None]

    def poll(self) -> list[dict[str, Any]]:
        """Events written since the last poll, oldest first (empty if none or no file yet)."""
        events, self._pending = self._pending, []
        if self._file is None:
            self._open()
        if self._file is None:
            return events
        # Checked before reading: once renamed, the old file is complete (closed before the
        # rename), so reading it to its end and then switching loses nothing.
        replaced = self._replaced()
        events += self._read()
        if replaced:
            self._file.close()
            self._open()
            if self._file is not None:
                events += self._read()
        return events

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """Everything the file (and its rotated predecessor) holds now."""
    reader = EventFileReader(path)
    try:
        return reader.poll()
    finally:
        reader.close()


def follow_events(path: Path, poll_s: float = POLL_S) -> Iterator[dict[str, Any]]:
    """What is there, then every new event as it is written, until the caller stops iterating."""
    reader = EventFileReader(path)
    try:
        while True:
            yield from reader.poll()
            time.sleep(poll_s)
    finally:
        reader.close()


async def print_events(
    path: Path, show: Callable[[dict[str, Any]], None], poll_s: float = POLL_S
) -> None:
    """``wsgate local``'s terminal: show each event of a fresh stack's file until cancelled.

    Reading a few new lines of a local file is quicker than a context switch, so it stays on
    the event loop; a failing ``show`` (a closed terminal) ends only this task.
    """
    reader = EventFileReader(path, include_rotated=False)
    try:
        while True:
            for event in reader.poll():
                show(event)
            await asyncio.sleep(poll_s)
    finally:
        reader.close()
