"""The terminal's event lines and ``wsgate logs``'s filters, as pure functions."""

from __future__ import annotations

import json

import pytest

from wsgate.local.event_lines import (
    LAYOUT,
    RESET,
    EventFilter,
    format_event,
    json_line,
    parse_since,
    render,
)

AT = 1_795_627_632_441

EVENTS: dict[str, dict[str, object]] = {
    "connect": {"route": "$connect", "status": 101, "user": "bob", "keySource": "authorizer"},
    "connect_refused": {"route": "$connect", "status": 401, "reason": "authorizer: expired"},
    "route": {"route": "sendmessage", "user": "bob", "preview": '{"action":\n"sendmessage"}'},
    "validation_failed": {"route": "sendmessage", "user": "bob", "problems": ["'message' x"]},
    "integration": {"route": "sendmessage", "status": 200, "latencyMs": 12.5, "user": "bob"},
    "push": {"status": 200, "user": "bob", "bytes": 9, "preview": "{}"},
    "push_gone": {"status": 410},
    "kick": {"status": 204},
    "disconnect": {"route": "$disconnect", "code": 1001, "reason": "Going away", "user": "bob"},
    "throttled": {"route": "sendmessage", "status": 429, "user": "bob"},
}


def _event(kind: str, **extra: object) -> dict[str, object]:
    return {"seq": 1, "kind": kind, "connectionId": "abc=", "at": AT, **EVENTS[kind], **extra}


def test_every_kind_the_gateway_publishes_has_a_layout() -> None:
    from wsgate.gateway.events import EventKind

    assert set(LAYOUT) == {str(kind) for kind in EventKind} == set(EVENTS)


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_one_event_is_one_plain_line_with_its_kind_and_connection(kind: str) -> None:
    line = format_event(_event(kind))
    assert "\n" not in line and "\x1b" not in line
    assert line.split()[1:3] == [kind, "abc="]


def test_each_line_says_what_its_kind_is_about() -> None:
    assert format_event(_event("connect")).endswith("bob key from authorizer status 101")
    assert format_event(_event("integration")).endswith("bob -> sendmessage status 200 12.5 ms")
    assert format_event(_event("disconnect")).endswith("bob code 1001 Going away")
    assert format_event(_event("push_gone")).endswith("status 410")
    assert format_event(_event("throttled")).endswith("-> sendmessage status 429")
    assert format_event(_event("connect_refused")).endswith("status 401 authorizer: expired")
    assert format_event(_event("validation_failed")).endswith("-> sendmessage 'message' x")
    assert '-> sendmessage {"action": "sendmessage"}' in format_event(_event("route"))


def test_a_failed_integration_shows_its_error() -> None:
    line = format_event(_event("integration", status=None, error="timeout after 29s"))
    assert line.endswith("status none 12.5 ms timeout after 29s")


def test_colour_only_when_asked() -> None:
    coloured = format_event(_event("connect"), colour=True)
    assert "\x1b[32m" in coloured and RESET in coloured
    failed = format_event(_event("integration", status=502), colour=True)
    assert "\x1b[31m" in failed


def test_an_unknown_kind_still_prints_its_fields() -> None:
    line = format_event({"kind": "reload", "at": AT, "connectionId": "", "routes": 4})
    assert "reload" in line and "routes=4" in line


def test_json_output_is_the_event_as_written() -> None:
    event = _event("integration")
    assert json.loads(render(event, "json", colour=True)) == event
    assert json_line(event) == render(event, "json", colour=False)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400)]
)
def test_since_accepts_seconds_minutes_hours_days(text: str, seconds: int) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "-5m", "5 minutes", "1.5h"])
def test_since_refuses_other_forms_saying_which_are_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="30s, 5m"):
        parse_since(text)


def test_filters_combine_connection_route_and_time() -> None:
    mine = _event("integration")
    other = _event("integration", connectionId="other=")
    connect = _event("connect")
    old = _event("integration", at=AT - 60_000)
    wanted = EventFilter(connection_id="abc=", route="sendmessage", since_ms=AT - 1000)
    assert [e for e in (mine, other, connect, old) if wanted.matches(e)] == [mine]
    assert all(EventFilter().matches(e) for e in (mine, other, connect, old))
    assert EventFilter(route="$connect").matches(connect)
