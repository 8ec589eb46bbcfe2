"""The hybrid chat through ``wsgate local``: ``listrooms`` on a Chalice function, chat on the fleet.

Real WebSocket clients, the synthesized template (an ``AWS_PROXY`` integration for every
``backend="lambda"`` route), the Chalice app's function in a worker process reading moto's SSM
and DynamoDB, and the Sanic service for everything else.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from shared.routes import lambda_routes, service_routes
from tests.local.conftest import RunningStack

WAIT_S = 30.0
"""Generous: the first call to a function starts its worker (a cold start) on a busy machine."""


def _headers(stack: RunningStack, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(user)}"}


async def _until(client: ClientConnection, wanted: str) -> Any:
    async with asyncio.timeout(WAIT_S):
        while True:
            frame = json.loads(await client.recv())
            if frame.get("type") == wanted:
                return frame


async def _rooms(client: ClientConnection, *names: str) -> dict[str, int]:
    await client.send(json.dumps({"action": "listrooms"}))
    frame = await _until(client, "rooms")
    return {r["room"]: r["members"] for r in frame["rooms"] if r["room"] in names}


async def _join(client: ClientConnection, room: str) -> None:
    await client.send(json.dumps({"action": "joinroom", "roomname": room}))
    async with asyncio.timeout(WAIT_S):
        while True:
            frame = json.loads(await client.recv())
            if frame.get("type") == "joined" and frame.get("room") == room:
                return


async def test_listrooms_on_lambda_beside_chat_on_the_fleet(chat_stack: RunningStack) -> None:
    assert [r.key for r in lambda_routes()] == ["listrooms"] and service_routes()
    url = chat_stack.facts["websocketUrl"]
    big, small = f"big-{secrets.token_hex(3)}", f"small-{secrets.token_hex(3)}"
    async with (
        connect(url, additional_headers=_headers(chat_stack, "alice")) as alice,
        connect(url, additional_headers=_headers(chat_stack, "bob")) as bob,
        connect(url, additional_headers=_headers(chat_stack, "carol")) as carol,
    ):
        assert await _rooms(alice, big, small) == {}
        await _join(alice, big)
        await _join(bob, big)
        await _join(carol, small)
        assert await _rooms(carol, big, small) == {big: 2, small: 1}

        await alice.send(json.dumps({"action": "sendmessage", "message": "still on the fleet"}))
        frame = await _until(bob, "message")
        assert (frame["from"], frame["message"]) == ("alice", "still on the fleet")

        await bob.close()
        rooms: dict[str, int] = {}
        for _ in range(100):  # $disconnect reaches the service, then the table
            rooms = await _rooms(alice, big, small)
            if rooms == {big: 1, small: 1}:
                break
            await asyncio.sleep(0.2)
        assert rooms == {big: 1, small: 1}

    service_log = chat_stack.log("service")
    assert "/sendmessage" in service_log
    assert "listrooms" not in service_log  # served by the function, never by the fleet
