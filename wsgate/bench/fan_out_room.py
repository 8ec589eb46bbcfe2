"""The fan-out scenario's room: its sender and receivers, found and placed in the table.

The bench's clients connect through the full stack, so their records appear as ``$connect``
runs; the room is assigned only once every one of them is there.
"""

from __future__ import annotations

import time
from typing import Any


def room_members(table: Any) -> list[dict[str, Any]]:
    """Every record of the room's users, across scan pages (a room of 5,000 spans some)."""
    found: list[dict[str, Any]] = []
    page: dict[str, Any] = {"ProjectionExpression": "connectionId, userId"}
    while True:
        answer = table.scan(**page)
        found += [i for i in answer["Items"] if i["userId"] in ("member", "sender")]
        if "LastEvaluatedKey" not in answer:
            return found
        page["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def assign_room(table: Any, n: int) -> None:
    """Put the sender and its ``n`` receivers in room ``fan-{n}`` once all are connected."""
    # $connect records are written before each handshake completes; the wait is a
    # bounded safety net, so a broken stack fails the scenario instead of hanging it.
    deadline = time.monotonic() + 60
    room = room_members(table)
    while len(room) < n + 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(room)} of {n + 1} fan-out members registered")
        time.sleep(0.2)
        room = room_members(table)
    for item in room:
        table.update_item(
            Key={"connectionId": item["connectionId"]},
            UpdateExpression="SET room = :r",
            ExpressionAttributeValues={":r": f"fan-{n}"},
        )
