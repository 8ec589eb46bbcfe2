"""What happened inside the local gateway, as typed events, for its local-only admin surface.

The gateway publishes one event per decision (connect, route selected, validation failure,
integration call, ``@connections`` push, disconnect, throttling). Publishing must never slow
down or break request handling, so it is synchronous and bounded: events go into a ring buffer
(the recent history a new subscriber sees first) and into each subscriber's bounded queue; a
subscriber that does not keep up loses events (counted in ``dropped``) instead of growing memory.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)

EventSink = Callable[["GatewayEvent"], None]
"""Called synchronously with every published event (e.g. the state directory's event file)."""


class EventKind(StrEnum):
    """The decisions worth watching; values are what the event stream carries."""

    CONNECT = "connect"
    CONNECT_REFUSED = "connect_refused"
    ROUTE = "route"
    VALIDATION_FAILED = "validation_failed"
    INTEGRATION = "integration"
    PUSH = "push"
    PUSH_GONE = "push_gone"
    KICK = "kick"
    DISCONNECT = "disconnect"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One event: ``seq`` orders them (and lets a reconnecting reader skip what it has seen)."""

    seq: int
    kind: EventKind
    connection_id: str
    at_ms: int
    """Epoch milliseconds, like ``$context.requestTimeEpoch``."""
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": str(self.kind),
            "connectionId": self.connection_id,
            "at": self.at_ms,
            **self.detail,
        }


@dataclass
class Subscription:
    """A reader's queue; ``dropped`` counts events it lost by not reading fast enough."""

    queue: asyncio.Queue[GatewayEvent]
    dropped: int = 0


@dataclass
class EventBus:
    """A bounded history of gateway events plus live subscribers."""

    capacity: int = 1000
    subscriber_queue: int = 1000
    _history: deque[GatewayEvent] = field(init=False)
    _subscribers: list[Subscription] = field(init=False, default_factory=list)
    _seq: Iterator[int] = field(init=False, default_factory=lambda: itertools.count(1))
    _sinks: list[EventSink] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._history = deque(maxlen=self.capacity)

    def publish(self, kind: EventKind, connection_id: str, **detail: Any) -> GatewayEvent:
        """Record an event; never blocks and never raises on a slow subscriber."""
        event = GatewayEvent(
            next(self._seq), kind, connection_id, time.time_ns() // 1_000_000, detail
        )
        self._history.append(event)
        for subscription in self._subscribers:
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.dropped += 1
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception as error:  # a broken sink must not break the request it reports
                self._sinks.remove(sink)
                logger.warning("event sink %r removed after it failed: %s", sink, error)
        return event

    def add_sink(self, sink: EventSink) -> None:
        """Send every later event to ``sink`` too; a sink that raises is dropped (and logged)."""
        self._sinks.append(sink)

    def recent(self, after_seq: int = 0) -> list[GatewayEvent]:
        """Events still in the ring buffer with ``seq > after_seq``, oldest first."""
        return [event for event in self._history if event.seq > after_seq]

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        """Receive every event published while the ``with`` block runs."""
        subscription = Subscription(asyncio.Queue(maxsize=self.subscriber_queue))
        self._subscribers.append(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
