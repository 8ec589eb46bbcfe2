"""Gateway events as terminal lines, and the filters of ``wsgate logs``: pure functions.

An event is the JSON object the gateway writes (``seq``, ``kind``, ``connectionId``, ``at`` in
epoch milliseconds, then the kind's own fields). One event is always one line, so ``grep`` and
``wc -l`` work on the output; colour (ANSI) is added only for a terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Event = Mapping[str, Any]

RESET = "\x1b[0m"
GREEN, RED, YELLOW, CYAN, MAGENTA, DIM = (f"\x1b[{n}m" for n in (32, 31, 33, 36, 35, 2))
KIND_WIDTH = 11
PREVIEW_CHARS = 60
SINCE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SINCE_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def _field(event: Event, key: str, label: str = "") -> str:
    value = event.get(key)
    if value is None or value == "":
        return ""
    return f"{label}{value}"


def _preview(event: Event) -> str:
    text = " ".join(str(event.get("preview") or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def _connect(event: Event) -> list[str]:
    key = _field(event, "keySource", "key from ")
    return [_field(event, "user"), key, _field(event, "status", "status ")]


def _refused(event: Event) -> list[str]:
    return [_field(event, "status", "status "), _field(event, "reason")]


def _route(event: Event) -> list[str]:
    return [_field(event, "user"), _field(event, "route", "-> "), _preview(event)]


def _invalid(event: Event) -> list[str]:
    problems = "; ".join(str(p) for p in event.get("problems") or [])
    return [_field(event, "user"), _field(event, "route", "-> "), problems]


def _integration(event: Event) -> list[str]:
    latency = event.get("latencyMs")
    return [
        _field(event, "user"),
        _field(event, "route", "-> "),
        f"status {event.get('status') or 'none'}",
        "" if latency is None else f"{latency} ms",
        _field(event, "error"),
    ]


def _push(event: Event) -> list[str]:
    return [_field(event, "user"), _field(event, "status", "status "), _preview(event)]


def _disconnect(event: Event) -> list[str]:
    return [_field(event, "user"), _field(event, "code", "code "), _field(event, "reason")]


def _throttled(event: Event) -> list[str]:
    status = _field(event, "status", "status ")
    return [_field(event, "user"), _field(event, "route", "-> "), status]


def _integration_colour(event: Event) -> str:
    status = event.get("status")
    return GREEN if isinstance(status, int) and 200 <= status < 300 else RED


LAYOUT: dict[str, tuple[str, Callable[[Event], list[str]]]] = {
    "connect": (GREEN, _connect),
    "connect_refused": (RED, _refused),
    "route": (CYAN, _route),
    "validation_failed": (RED, _invalid),
    "integration": (GREEN, _integration),
    "push": (MAGENTA, _push),
    "push_gone": (RED, _push),
    "kick": (YELLOW, _refused),
    "disconnect": (YELLOW, _disconnect),
    "throttled": (RED, _throttled),
}
"""kind -> (colour, the fields shown after the connection id)."""

BASE_FIELDS = frozenset({"seq", "kind", "connectionId", "at"})


def _other_fields(event: Event) -> list[str]:
    """An unknown kind (a newer gateway) still prints everything it carries."""
    return [f"{key}={value}" for key, value in event.items() if key not in BASE_FIELDS]


def clock(at_ms: Any) -> str:
    """Local wall-clock time with milliseconds, as log lines show it."""
    if not isinstance(at_ms, int | float):
        return "--:--:--.---"
    return datetime.fromtimestamp(at_ms / 1000).strftime("%H:%M:%S.%f")[:-3]


def format_event(event: Event, colour: bool = False) -> str:
    """One event, one line: time, kind, connection id, then what that kind is about."""
    kind = str(event.get("kind", "?"))
    tint, fields = LAYOUT.get(kind, ("", _other_fields))
    if kind == "integration":
        tint = _integration_colour(event)
    details = " ".join(part for part in fields(event) if part).replace("\n", " ")
    label = kind.ljust(KIND_WIDTH)
    when = clock(event.get("at"))
    connection = str(event.get("connectionId") or "-")
    if colour:
        return f"{DIM}{when}{RESET} {tint}{label}{RESET} {connection} {details}".rstrip()
    return f"{when} {label} {connection} {details}".rstrip()


def json_line(event: Event) -> str:
    """``--log-format json``: the event exactly as the gateway wrote it, one object per line."""
    return json.dumps(event, separators=(",", ":"))


def parse_since(text: str) -> int:
    """``30s``, ``5m``, ``2h`` or ``1d`` in seconds; ``ValueError`` with the accepted forms."""
    match = SINCE_PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration: use a number and s, m, h or d (30s, 5m)")
    return int(match.group(1)) * SINCE_UNITS[match.group(2)]


@dataclass(frozen=True)
class EventFilter:
    """What ``wsgate logs`` keeps: every given criterion must hold."""

    connection_id: str | None = None
    route: str | None = None
    since_ms: int | None = None
    """Epoch milliseconds: events at or after it."""

    def matches(self, event: Event) -> bool:
        if self.connection_id is not None and event.get("connectionId") != self.connection_id:
            return False
        if self.route is not None and event.get("route") != self.route:
            return False
        at = event.get("at")
        return self.since_ms is None or (isinstance(at, int | float) and at >= self.since_ms)


def render(event: Event, output: str, colour: bool) -> str:
    """The line for ``output`` (``text`` or ``json``)."""
    return json_line(event) if output == "json" else format_event(event, colour)
