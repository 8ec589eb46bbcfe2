"""One connection's messages, handled concurrently as API Gateway does, within a bound.

API Gateway does not serialize the messages of a connection: a slow integration does not hold
up the reply to the next message. The bound on how many run at once, and on how many may wait,
is this gateway's (``limits.MESSAGE_CONCURRENCY``, ``limits.MESSAGE_BACKLOG_CHARS``; AWS
documents none). Past the backlog the socket stops being read, so a flooding client is slowed
by TCP rather than growing the gateway's memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from wsgate.gateway import limits

log = logging.getLogger(__name__)


class MessagePump:
    """Starts a task per message; at most ``concurrency`` run, the rest wait in order."""

    def __init__(
        self,
        handle: Callable[[str], Awaitable[None]],
        pause_reading: Callable[[], None],
        resume_reading: Callable[[], None],
        *,
        concurrency: int = limits.MESSAGE_CONCURRENCY,
        backlog_chars: int = limits.MESSAGE_BACKLOG_CHARS,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"message concurrency must be at least 1, not {concurrency}")
        self._handle = handle
        self._pause_reading = pause_reading
        self._resume_reading = resume_reading
        self._slots = asyncio.Semaphore(concurrency)
        self._high_water = backlog_chars
        self._backlog = 0
        """Characters of the messages received and not finished yet."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused = False
        self._on_idle: Callable[[], None] | None = None

    @property
    def pending(self) -> int:
        return len(self._tasks)

    @property
    def backlog_chars(self) -> int:
        return self._backlog

    def submit(self, message: str) -> None:
        size = len(message)
        task = asyncio.get_running_loop().create_task(self._run(message))
        self._tasks.add(task)
        self._backlog += size
        task.add_done_callback(lambda done: self._done(done, size))
        if not self._paused and self._backlog >= self._high_water:
            self._paused = True
            self._pause_reading()

    async def _run(self, message: str) -> None:
        async with self._slots:
            try:
                await self._handle(message)
            except Exception:
                # A bug in the gateway, not the client's doing: log it, keep the connection.
                log.exception("message handling failed")

    def _done(self, task: asyncio.Task[None], size: int) -> None:
        self._tasks.discard(task)
        self._backlog -= size
        if self._paused and self._backlog < self._high_water // 2:
            self._paused = False
            self._resume_reading()
        if not self._tasks and self._on_idle is not None:
            self._on_idle()

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once no message is in flight (now, if none is)."""
        if self._tasks:
            self._on_idle = callback
        else:
            callback()

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
