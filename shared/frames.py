"""The JSON frames the service pushes to WebSocket clients, declared once.

Clients (the browser page, tests, the ops Lambda's broadcasts) read these shapes; keeping them
here means a field renamed in one place is renamed everywhere. Each function returns the bytes
``PostToConnection`` sends.
"""

from __future__ import annotations

import json
from typing import Any

from shared.routes import ROUTES, Route


def _encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()


def message_frame(room: str, sender: str, message: str, sent_at_ms: int) -> bytes:
    """A chat message; ``from`` is the sender's user id from the authorizer, never the client."""
    return _encode(
        {"type": "message", "room": room, "from": sender, "message": message, "sentAt": sent_at_ms}
    )


def joined_frame(room: str, user: str) -> bytes:
    """Someone (possibly the receiver itself: that is the joiner's confirmation) joined a room."""
    return _encode({"type": "joined", "room": room, "user": user})


def error_frame(message: str) -> bytes:
    """An application error the client can act on (e.g. "join a room first")."""
    return _encode({"type": "error", "message": message})


def help_actions(routes: tuple[Route, ...] = ROUTES) -> dict[str, list[str]]:
    """The actions a client may send and their fields, from the route table."""
    return {r.key: list(r.fields) for r in routes if not r.is_predefined}


def help_frame(routes: tuple[Route, ...] = ROUTES) -> bytes:
    """The ``$default`` reply: what the client can send instead."""
    actions = help_actions(routes)
    examples = ", ".join(
        json.dumps({"action": key, **{name: "..." for name in fields}})
        for key, fields in actions.items()
    )
    return _encode(
        {
            "type": "help",
            "message": f"Unknown or missing action. Send one of: {examples}",
            "actions": actions,
        }
    )


def broadcast_frame(message: str, sent_at_ms: int, room: str | None = None) -> bytes:
    """An operator's announcement (the ops Lambda's ``broadcast``)."""
    return _encode(
        {"type": "broadcast", "room": room, "from": "ops", "message": message, "sentAt": sent_at_ms}
    )
