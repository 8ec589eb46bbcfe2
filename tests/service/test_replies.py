"""Frames for the sender alone travel back as the route response, through ``wsgate local``'s
gateway with real WebSocket clients: no ``@connections`` call, and nothing extra when the
service has nothing to say.

A route is two-way when it has ``RouteResponseSelectionExpression: $default`` and a
``$default`` RouteResponse; for a non-proxy (HTTP) integration the answer then goes through
the integration response first
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-responses.html).
AWS does not document what a two-way route sends for an empty integration response body; the
service answers 204 with no body and the local gateway sends nothing for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from shared import frames
from tests.local.conftest import RunningStack, start_local, stop_local
from tests.service.test_through_gateway import WAIT_S, client


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_local(tmp_path_factory.mktemp("replies"), "--seed-users=alice,bob")
    try:
        yield running
    finally:
        stop_local(running)


async def _next(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        frame: dict[str, Any] = json.loads(await socket.recv())
        return frame


def _service_lines(stack: RunningStack, route_key: str) -> list[dict[str, Any]]:
    lines = []
    for text in stack.log("service").splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if line.get("route") == route_key:
                lines.append(line)
    return lines


async def test_the_help_frame_is_the_route_response(stack: RunningStack) -> None:
    async with client(stack, "alice") as alice:
        await alice.send("what can I do?")
        assert await _next(alice) == json.loads(frames.help_frame())
    (line,) = _service_lines(stack, "$default")
    # Answered on the integration call itself: no push (a push logs what it delivered).
    assert line["status"] == 200 and "delivered" not in line


async def test_nothing_extra_arrives_when_there_is_nothing_to_say(stack: RunningStack) -> None:
    """After each call the next frame is the one expected: an empty reply would come first."""
    async with client(stack, "bob") as bob:
        await bob.send(json.dumps({"action": "sendmessage", "message": "too early"}))
        first = await _next(bob)
        assert first["type"] == "error" and "joinroom" in first["message"]
        await bob.send(json.dumps({"action": "joinroom", "roomname": "quiet"}))
        assert await _next(bob) == {"type": "joined", "room": "quiet", "user": "bob"}
        await bob.send(json.dumps({"action": "sendmessage", "message": "only me"}))
        message = await _next(bob)
        assert (message["type"], message["message"]) == ("message", "only me")
        await bob.send("?")  # the next frame must be this help frame, nothing in between
        assert (await _next(bob))["type"] == "help"
    for key in ("joinroom", "sendmessage"):
        assert {line["status"] for line in _service_lines(stack, key)} <= {200, 204}, key


async def test_a_refusal_reaches_the_sender_as_the_reply(stack: RunningStack) -> None:
    """A message the gateway's model lets through but the service refuses (a NUL)."""
    async with client(stack, "alice") as alice:
        await alice.send(json.dumps({"action": "sendmessage", "message": "bad\u0000value"}))
        frame = await _next(alice)
    assert frame == {
        "type": "error",
        "message": "Your message was refused: payload.message: must not contain NUL characters",
    }
