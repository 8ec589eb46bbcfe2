"""The tutorial's chat, end to end through ``wsgate local`` with real WebSocket clients.

Everything here goes through the same path a deployed client takes: the gateway's authorizer and
API-key checks, route selection, model validation, the generated request templates, the Sanic
service, DynamoDB (moto's server) and pushes back through ``@connections``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from shared.routes import ROUTES
from tests.local.conftest import RunningStack

RECEIVE_TIMEOUT_S = 10.0


def _headers(stack: RunningStack, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(user)}"}


async def _next_frame(client: ClientConnection, wait_s: float = RECEIVE_TIMEOUT_S) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), wait_s))


async def _frames_until(
    client: ClientConnection, predicate: Any, wait_s: float = RECEIVE_TIMEOUT_S
) -> list[Any]:
    """Every frame up to and including the first that satisfies ``predicate``."""
    frames: list[Any] = []
    async with asyncio.timeout(wait_s):
        while True:
            frames.append(json.loads(await client.recv()))
            if predicate(frames[-1]):
                return frames


async def _no_frame(client: ClientConnection, wait_s: float = 1.0) -> None:
    with pytest.raises(TimeoutError):
        frame = await asyncio.wait_for(client.recv(), wait_s)
        pytest.fail(f"unexpected frame: {frame!r}")


async def _join(client: ClientConnection, room: str) -> None:
    await client.send(json.dumps({"action": "joinroom", "roomname": room}))
    await _frames_until(client, lambda f: f.get("type") == "joined" and f.get("room") == room)


async def test_three_users_two_rooms(chat_stack: RunningStack) -> None:
    url = chat_stack.facts["websocketUrl"]
    async with (
        connect(url, additional_headers=_headers(chat_stack, "alice")) as alice,
        connect(url, additional_headers=_headers(chat_stack, "bob")) as bob,
        connect(url, additional_headers=_headers(chat_stack, "carol")) as carol,
    ):
        await _join(alice, "developers")
        await _join(bob, "developers")
        await _join(carol, "designers")
        # alice learns that bob joined her room; carol, in another room, learns nothing.
        notice = await _frames_until(alice, lambda f: f.get("type") == "joined")
        assert notice[-1]["user"] == "bob"

        # A spoofed "from" in the payload is ignored: the sender is the token's subject.
        await alice.send(
            json.dumps({"action": "sendmessage", "message": "hello devs", "from": "mallory"})
        )
        for member in (alice, bob):
            frame = (await _frames_until(member, lambda f: f.get("type") == "message"))[-1]
            assert frame["from"] == "alice"
            assert frame["message"] == "hello devs"
            assert frame["room"] == "developers"
        await _no_frame(carol)

        await carol.send(json.dumps({"action": "sendmessage", "message": "hi designers"}))
        frame = (await _frames_until(carol, lambda f: f.get("type") == "message"))[-1]
        assert (frame["from"], frame["room"]) == ("carol", "designers")
        await _no_frame(alice, 0.5)
        await _no_frame(bob, 0.5)


async def test_disconnect_removes_the_record(chat_stack: RunningStack) -> None:
    table = chat_stack.table()
    before = {item["connectionId"] for item in table.scan()["Items"]}
    url = chat_stack.facts["websocketUrl"]
    async with connect(url, additional_headers=_headers(chat_stack, "bob")) as bob:
        await _join(bob, "lobby")
        during = {item["connectionId"] for item in table.scan()["Items"]}
        (new_id,) = during - before
        assert table.get_item(Key={"connectionId": new_id})["Item"]["userId"] == "bob"
    for _ in range(50):
        if "Item" not in table.get_item(Key={"connectionId": new_id}):
            break
        await asyncio.sleep(0.1)
    assert "Item" not in table.get_item(Key={"connectionId": new_id})


async def test_no_token_is_401(chat_stack: RunningStack) -> None:
    with pytest.raises(websockets.InvalidStatus) as rejected:
        async with connect(chat_stack.facts["websocketUrl"]):
            pass
    assert rejected.value.response.status_code == 401


async def test_browser_style_query_token_connects(chat_stack: RunningStack) -> None:
    url = f"{chat_stack.facts['websocketUrl']}?token={chat_stack.token('carol')}"
    async with connect(url) as carol:
        await carol.send(json.dumps({"action": "nope"}))
        assert (await _next_frame(carol))["type"] == "help"


async def test_garbage_gets_the_help_frame(chat_stack: RunningStack) -> None:
    url = chat_stack.facts["websocketUrl"]
    async with connect(url, additional_headers=_headers(chat_stack, "alice")) as alice:
        await alice.send("this is not json")
        frame = await _next_frame(alice)
        assert frame["type"] == "help"
        assert set(frame["actions"]) == {r.key for r in ROUTES if not r.is_predefined}


async def test_invalid_message_never_reaches_the_service(chat_stack: RunningStack) -> None:
    url = chat_stack.facts["websocketUrl"]
    async with connect(url, additional_headers=_headers(chat_stack, "alice")) as alice:
        await _join(alice, "quiet")
        seen_before = chat_stack.log("service").count("/sendmessage")
        await alice.send(json.dumps({"action": "sendmessage", "message": ""}))
        frame = await _next_frame(alice)
        assert frame["message"] == "Invalid request body"
        assert set(frame) == {"message", "connectionId", "requestId"}
        # A valid message afterwards is logged by the service: the log is live, and the
        # invalid one before it is not in it.
        await alice.send(json.dumps({"action": "sendmessage", "message": "ok"}))
        await _frames_until(alice, lambda f: f.get("type") == "message")
        await asyncio.sleep(0.3)
        assert chat_stack.log("service").count("/sendmessage") == seen_before + 1
