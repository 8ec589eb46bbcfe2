"""The console's developer-panel routes against a running ``wsgate local`` (real sockets).

Push and kick go through ``@connections`` with a SigV4-signed boto3 client; what the clients
receive and how their sockets close is what is checked, not what the panel says it did.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import aiohttp
import aiohttp.web
import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from shared.connection_store import ConnectionRecord
from tests.local.conftest import RunningStack, start_local, stop_local
from wsgate.local.aws_resources import AwsTarget
from wsgate.local.dev_panel import DevPanel, PanelTarget, client_error, merge_rooms


async def _join(stack: RunningStack, user: str, room: str) -> ClientConnection:
    url = f"{stack.facts['websocketUrl']}?token={stack.token(user)}"
    client = await connect(url)
    await client.send(json.dumps({"action": "joinroom", "roomname": room}))
    frame = json.loads(await asyncio.wait_for(client.recv(), 20))
    assert frame == {"type": "joined", "room": room, "user": user}
    return client


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def test_connections_carry_rooms_and_push_and_kick_reach_the_socket(
    chat_stack: RunningStack,
) -> None:
    console = chat_stack.facts["consoleUrl"]
    alice = await _join(chat_stack, "alice", "panel-room")
    bob = await _join(chat_stack, "bob", "panel-room")
    await asyncio.wait_for(alice.recv(), 20)  # bob's join, seen by alice
    async with aiohttp.ClientSession() as session:
        listed = (await _get(session, f"{console}dev/connections"))["connections"]
        ours = {c["user"]: c for c in listed if c["room"] == "panel-room"}
        assert set(ours) == {"alice", "bob"}
        room = await _get(session, f"{console}dev/rooms/panel-room")
        assert sorted(m["user"] for m in room["members"]) == ["alice", "bob"]

        bob_id = ours["bob"]["connectionId"]
        frame = b'{"type":"message","from":"ops","message":"from the panel"}'
        async with session.post(f"{console}dev/connections/{bob_id}", data=frame) as reply:
            assert reply.status == 200
        assert (await asyncio.wait_for(bob.recv(), 20)).encode() == frame

        async with session.delete(f"{console}dev/connections/{bob_id}") as reply:
            assert reply.status == 200
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(bob.recv(), 20)
        assert bob.close_code == 1000

        async with session.post(f"{console}dev/connections/{bob_id}", data=b"x") as reply:
            assert reply.status == 410
            assert (await reply.json())["message"] == f"Connection {bob_id} is gone."
        async with session.post(f"{console}dev/connections/{bob_id}", data=b"") as reply:
            assert reply.status == 400
            assert "nothing to push" in (await reply.json())["message"]
        usage = await _get(session, f"{console}dev/usage")
        (plan,) = usage["usagePlans"]
        # One key per user (alice and bob each connected once), or the shared key twice.
        assert sum(key["quotaUsed"] for key in plan["keys"]) >= 2
    await alice.close()


async def test_event_stream_is_relayed_to_the_page_origin(chat_stack: RunningStack) -> None:
    # Two members: the sender's own copy is its route response, the other's is a push.
    carol = await _join(chat_stack, "carol", "relay-room")
    bob = await _join(chat_stack, "bob", "relay-room")
    await carol.send(json.dumps({"action": "sendmessage", "message": "relayed?"}))
    while "relayed?" not in await asyncio.wait_for(bob.recv(), 20):
        pass
    await carol.close()
    await bob.close()
    previews: list[str] = []
    events_url = f"{chat_stack.facts['consoleUrl']}dev/events"
    async with (
        aiohttp.ClientSession() as session,
        asyncio.timeout(30),
        session.get(events_url) as reply,
    ):
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        async for raw in reply.content:
            line = raw.decode()
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                previews.append(event.get("preview", ""))
                if "relayed?" in event.get("preview", "") and event["kind"] == "push":
                    break
    assert any('"message":"relayed?"' in p.replace(" ", "") for p in previews)


def test_rooms_are_merged_by_connection_id() -> None:
    record = ConnectionRecord("c1", "alice", "alice", "r", 0, 0, None)
    merged = merge_rooms([{"connectionId": "c1"}, {"connectionId": "c2"}], [record])
    assert [c["room"] for c in merged] == ["r", None]


def test_boto_errors_keep_the_gateways_status_and_message() -> None:
    error = ClientError(
        {
            "Error": {"Code": "GoneException", "Message": "Connection x is gone."},
            "ResponseMetadata": {"HTTPStatusCode": 410},
        },
        "PostToConnection",
    )
    converted = client_error(error)
    assert (converted.status, converted.message) == (410, "Connection x is gone.")


async def test_panel_calls_to_connections_are_sigv4_signed_for_execute_api() -> None:
    """What the gateway will verify: ``AWS4-HMAC-SHA256`` with scope ``.../execute-api/...``.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
    """
    seen: list[aiohttp.web.Request] = []

    async def record(request: aiohttp.web.Request) -> aiohttp.web.Response:
        seen.append(request)
        return aiohttp.web.Response(status=200 if request.method == "POST" else 204)

    app = aiohttp.web.Application()
    app.router.add_route("*", "/prod/@connections/{id}", record)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    panel = DevPanel(
        PanelTarget(base, f"{base}/prod", AwsTarget("http://127.0.0.1:1", "eu-west-1"), "t")
    )
    try:
        await panel._boto(panel._management.post_to_connection, ConnectionId="abc", Data=b"hi")
        await panel._boto(panel._management.delete_connection, ConnectionId="abc")
    finally:
        await runner.cleanup()
    assert [r.method for r in seen] == ["POST", "DELETE"]
    for request in seen:
        authorization = request.headers["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert "/eu-west-1/execute-api/aws4_request" in authorization
        assert request.headers["X-Amz-Security-Token"] == "testing"


def test_stack_stops_promptly_with_the_panel_event_stream_open(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A browser left on the panel keeps a stream open; Ctrl+C must not wait for it."""
    stack = start_local(tmp_path_factory.mktemp("panel-stop"))
    try:
        stream = urllib.request.urlopen(f"{stack.facts['consoleUrl']}dev/events", timeout=60)
        assert stream.status == 200
        started = time.monotonic()
    finally:
        stop_local(stack)  # SIGTERM, then waits at most 30 s for wsgate local to exit
    assert time.monotonic() - started < 20
    stream.close()
