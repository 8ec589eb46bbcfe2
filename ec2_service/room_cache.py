"""Room members, remembered for one second per instance: one store call fewer per message in a
busy room.

Every ``sendmessage`` reads the sender's room (GetItem) and the room's members (a Query on the
room index). The members of a room change far less often than messages are sent to it, so
an instance reuses the list it read less than :data:`TTL_S` ago. What that costs, exactly:

- a connection that joins a room through *another* instance may miss the messages sent
  through this one during at most :data:`TTL_S` after its join (through the instance that
  handled its join, none: that instance forgets the room's list);
- a connection that left the room (joined another) through another instance may still get
  that room's messages for at most :data:`TTL_S`;
- a closed connection is dropped from the list at its first 410.

The room index itself is eventually consistent: DynamoDB propagates a write to a global
secondary index "within a fraction of a second" under normal conditions
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html), so a join was
never visible to every sender at once; the cache at most adds :data:`TTL_S` to that window.
The sender's own room is never cached: it is read on every message, so a join is followed at
once by the joiner's own messages.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

TTL_S = 1.0
MAX_ROOMS = 10_000
"""Bound on remembered rooms (a list is dropped on expiry or when full)."""

Fetch = Callable[[str], Awaitable[list[str]]]


class RoomMembers:
    """``members(room)``: the cached list when fresh, else a read through ``fetch``."""

    def __init__(
        self, fetch: Fetch, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._clock = clock
        self._rooms: dict[str, tuple[float, list[str]]] = {}

    async def members(self, room: str) -> list[str]:
        now = self._clock()
        cached = self._rooms.get(room)
        if cached is not None and now - cached[0] < self._ttl_s:
            return list(cached[1])
        members = await self._fetch(room)
        if len(self._rooms) >= MAX_ROOMS:
            self._rooms = {r: e for r, e in self._rooms.items() if now - e[0] < self._ttl_s}
            if len(self._rooms) >= MAX_ROOMS:
                self._rooms.clear()
        self._rooms[room] = (now, list(members))
        return members

    def forget(self, room: str) -> None:
        """A join through this instance: the next message reads the room again."""
        self._rooms.pop(room, None)

    def drop(self, connection_id: str) -> None:
        """A connection answered 410: no cached list pushes to it again."""
        for _, members in self._rooms.values():
            if connection_id in members:
                members.remove(connection_id)
