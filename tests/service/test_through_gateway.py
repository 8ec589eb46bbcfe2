"""The service behind ``wsgate local``'s gateway, with real WebSocket clients.

The gateway adds the caller secret from the template's request parameters (the production
path), so what a client does through it works, while the same requests sent straight to the
service's port are refused. And a client whose message cannot be handled hears about it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from ec2_service.handlers import RECORD_LOST
from shared.integration_models import example_values
from shared.names import INTEGRATION_SECRET_HEADER
from tests.local.conftest import RunningStack, start_local, stop_local

WAIT_S = 15.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_local(tmp_path_factory.mktemp("service"), "--seed-users=alice,bob,carol")
    try:
        yield running
    finally:
        stop_local(running)


@asynccontextmanager
async def client(stack: RunningStack, user: str) -> AsyncIterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {stack.token(user)}"}
    async with connect(stack.facts["websocketUrl"], additional_headers=headers) as socket:
        yield socket


async def _frame(socket: ClientConnection, want: str) -> dict[str, Any]:
    """The next frame of type ``want`` (skipping others, e.g. other users' joins)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv())
            if frame.get("type") == want:
                return frame


async def _join(socket: ClientConnection, room: str) -> None:
    await socket.send(json.dumps({"action": "joinroom", "roomname": room}))
    async with asyncio.timeout(WAIT_S):
        while True:
            frame = json.loads(await socket.recv())
            if frame.get("type") == "joined" and frame.get("room") == room:
                return


def _records(stack: RunningStack) -> dict[str, dict[str, Any]]:
    return {item["connectionId"]: item for item in stack.table().scan()["Items"]}


def _connection_of(stack: RunningStack, user: str, room: str) -> str:
    (found,) = [
        cid
        for cid, item in _records(stack).items()
        if (item["userId"], item.get("room")) == (user, room)
    ]
    return str(found)


def _forged(stack: RunningStack, connection_id: str, user: str, **fields: Any) -> bytes:
    """A body exactly as the gateway's template writes it: only the secret is missing."""
    facts = stack.facts
    body = example_values() | {
        "connectionId": connection_id,
        "apiId": facts["apiId"],
        "stage": facts["stage"],
        "region": facts["region"],
        "tableName": facts["tableName"],
        "domainName": f"{facts['apiId']}.execute-api.{facts['region']}.amazonaws.com",
        "userId": user,
    }
    return json.dumps(body | fields).encode()


def _attacks(stack: RunningStack, victim: str) -> list[tuple[str, str, bytes]]:
    connect_fields = {
        "routeKey": "$connect",
        "eventType": "CONNECT",
        "userName": "Admin",
        "sourceIp": "10.0.0.9",
        "userAgent": "curl",
        "connectedAt": 1_700_000_000_000,
    }
    return [
        (
            "POST",
            "/joinroom",
            _forged(stack, victim, "alice", payload={"action": "joinroom", "roomname": "trap"}),
        ),
        (
            "POST",
            "/sendmessage",
            _forged(stack, victim, "alice", payload={"action": "sendmessage", "message": "pay me"}),
        ),
        ("POST", "/connect", _forged(stack, "phantom0000000=", "admin", **connect_fields)),
        (
            "DELETE",
            "/disconnect",
            _forged(stack, victim, "alice", routeKey="$disconnect", eventType="DISCONNECT"),
        ),
    ]


def _integration_secret(stack: RunningStack) -> str:
    secrets = stack.aws_client("secretsmanager", "ssmEndpoint")
    value = secrets.get_secret_value(SecretId=stack.facts["integrationSecretName"])
    return str(value["SecretString"])


async def test_forged_requests_to_the_service_are_refused_while_the_gateway_works(
    stack: RunningStack,
) -> None:
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        await _join(alice, "devs")
        await _join(bob, "devs")
        victim = _connection_of(stack, "alice", "devs")
        before = _records(stack)
        async with aiohttp.ClientSession() as http:
            for secret in (None, "wrong"):
                for method, path, body in _attacks(stack, victim):
                    headers = {"Content-Type": "application/json"}
                    if secret is not None:
                        headers[INTEGRATION_SECRET_HEADER] = secret
                    async with http.request(
                        method, stack.facts["serviceUrl"] + path, data=body, headers=headers
                    ) as response:
                        assert response.status == 403, (path, await response.text())
                        assert await response.json() == {"message": "Forbidden"}
        assert _records(stack) == before
        # Through the gateway, the same actions work.
        await bob.send(json.dumps({"action": "sendmessage", "message": "hello alice"}))
        assert (await _frame(alice, "message"))["from"] == "bob"
        await _join(alice, "elsewhere")
        assert _records(stack)[victim]["room"] == "elsewhere"


async def test_the_forged_bodies_were_right_only_the_secret_was_missing(
    stack: RunningStack,
) -> None:
    """The control: with the stack's secret, a forged body is served, so the 403s above came
    from the caller check and nothing else."""
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        await _join(alice, "control")
        await _join(bob, "control")
        victim = _connection_of(stack, "alice", "control")
        method, path, body = _attacks(stack, victim)[1]
        headers = {
            "Content-Type": "application/json",
            INTEGRATION_SECRET_HEADER: _integration_secret(stack),
        }
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method, stack.facts["serviceUrl"] + path, data=body, headers=headers
            ) as response,
        ):
            assert response.status == 200
        frame = await _frame(bob, "message")
        assert (frame["from"], frame["message"]) == ("alice", "pay me")


async def test_a_client_whose_record_is_gone_hears_it(stack: RunningStack) -> None:
    async with client(stack, "carol") as carol:
        await _join(carol, "lost")
        connection_id = _connection_of(stack, "carol", "lost")
        stack.table().delete_item(Key={"connectionId": connection_id})  # the store lost it
        await carol.send(json.dumps({"action": "sendmessage", "message": "anyone?"}))
        frame = await _frame(carol, "error")
        assert frame == {"type": "error", "message": RECORD_LOST}
        await carol.send(json.dumps({"action": "joinroom", "roomname": "again"}))
        assert (await _frame(carol, "error"))["message"] == RECORD_LOST


async def test_a_message_the_service_refuses_is_answered_with_an_error_frame(
    stack: RunningStack,
) -> None:
    """The gateway's model accepts a NUL in a message; the service does not, and says so."""
    async with client(stack, "carol") as carol:
        await _join(carol, "nul")
        await carol.send(json.dumps({"action": "sendmessage", "message": "a\u0000b"}))
        frame = await _frame(carol, "error")
        assert frame["message"] == (
            "Your message was refused: payload.message: must not contain NUL characters"
        )
