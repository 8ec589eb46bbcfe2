"""The gateway's event bus (pure) and its local-only ``/_wsgate`` admin surface (real sockets).

The admin surface has no AWS counterpart; what it reports is checked against what the gateway
did to real WebSocket clients: connect, route selection, a model validation failure, an
integration call with its status, an ``@connections`` push and a 410, a kick, a disconnect.
"""

# ruff: noqa: F811  (the gateway package's fixtures are imported, then requested by name)
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gateway.conftest import (  # noqa: F401
    ARN,
    Backend,
    GatewayFactory,
    authorizers,
    backend,
    gateway,
)
from tests.gateway.templates import KEY, http_api
from tests.support.connections_endpoint import signed_headers
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.events import EventBus, EventKind
from wsgate.gateway.running import start_gateway

KEYED = {"x-api-key": KEY}


def test_ring_buffer_keeps_the_newest_events_in_order() -> None:
    bus = EventBus(capacity=3)
    for n in range(5):
        bus.publish(EventKind.ROUTE, f"c{n}", route="echo")
    assert [e.connection_id for e in bus.recent()] == ["c2", "c3", "c4"]
    assert [e.seq for e in bus.recent(after_seq=3)] == [4, 5]
    assert bus.recent()[0].to_json()["kind"] == "route"


async def test_a_slow_subscriber_loses_events_instead_of_blocking_the_gateway() -> None:
    bus = EventBus(subscriber_queue=2)
    with bus.subscribe() as slow, bus.subscribe() as other:
        for n in range(5):
            bus.publish(EventKind.PUSH, f"c{n}")
        assert slow.queue.qsize() == 2 and slow.dropped == 3
        assert other.dropped == 3
    assert bus.subscriber_count == 0


async def _read_events(
    session: aiohttp.ClientSession, url: str, until: EventKind, limit_s: float = 15.0
) -> list[dict[str, Any]]:
    """Parse the SSE stream until an event of kind ``until`` arrives."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(limit_s), session.get(url) as reply:
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        async for raw in reply.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if events[-1]["kind"] == until:
                    return events
    raise AssertionError(f"stream ended before {until}: {events}")


async def test_admin_is_absent_unless_asked_for(gateway: GatewayFactory) -> None:
    running = await gateway(http_api())
    base = running.connections_url.rsplit("/", 1)[0]
    async with aiohttp.ClientSession() as session:
        for path in ("connections", "events", "usage"):
            async with session.get(f"{base}/_wsgate/{path}") as reply:
                assert reply.status == 403  # the gateway's catch-all, as for any unknown path


async def test_admin_reports_what_happened_to_real_clients(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api(plan_throttle=(10, 0.001), quota=50), admin=True)
    base = running.connections_url.rsplit("/", 1)[0]
    admin = f"{base}/_wsgate"
    async with aiohttp.ClientSession() as session:
        async with connect(running.url, additional_headers=KEYED) as client:
            async with session.get(f"{admin}/connections") as reply:
                (listed,) = (await reply.json())["connections"]
            assert listed["user"] == "alice" and listed["connectedAt"] <= listed["lastActiveAt"]
            await client.send(json.dumps({"action": "say", "text": ""}))
            assert json.loads(await client.recv())["message"] == "Invalid request body"
            await client.send(json.dumps({"action": "echo", "n": 1}))
            await client.recv()
            push = f"{running.connections_url}/@connections/{listed['connectionId']}"
            async with session.post(
                push, data=b'{"hi":1}', headers=signed_headers("POST", push, b'{"hi":1}')
            ) as reply:
                assert reply.status == 200
            assert json.loads(await client.recv()) == {"hi": 1}
            async with session.delete(push, headers=signed_headers("DELETE", push)) as reply:
                assert reply.status == 204
            await client.wait_closed()
        async with session.post(
            push, data=b"late", headers=signed_headers("POST", push, b"late")
        ) as reply:
            assert reply.status == 410
        events = await _read_events(session, f"{admin}/events", EventKind.PUSH_GONE)
        async with session.get(f"{admin}/usage") as reply:
            usage = await reply.json()
        async with session.get(f"{admin}/events?after=x") as reply:
            assert reply.status == 400
            assert "non-negative integer" in (await reply.json())["message"]

    mine = [e for e in events if e["connectionId"] == listed["connectionId"]]
    kinds = [e["kind"] for e in mine]
    assert kinds == [
        "connect",
        "route",
        "validation_failed",
        "route",
        "integration",
        "push",
        "kick",
        "disconnect",
        "push_gone",
    ]
    by_kind = {e["kind"]: e for e in mine}
    assert by_kind["validation_failed"]["route"] == "say"
    assert by_kind["integration"]["status"] == 200 and by_kind["integration"]["latencyMs"] >= 0
    assert by_kind["disconnect"]["code"] == 1000
    assert json.loads(mine[3]["preview"]) == {"action": "echo", "n": 1}
    (plan,) = usage["usagePlans"]
    (key,) = plan["keys"]
    assert (plan["burst"], plan["quotaLimit"]) == (10, 50)
    assert key["quotaUsed"] == 1 and key["quotaLeft"] == 49
    assert 8.9 < key["tokensLeft"] < 9.1  # one $connect took one token; 0.001/s refills ~none
    assert usage["stage"]["default"]["burst"] == 5000


async def test_stream_resumes_after_the_last_seen_event(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(), admin=True)
    admin = running.connections_url.rsplit("/", 1)[0] + "/_wsgate"
    async with connect(running.url, additional_headers=KEYED):
        pass
    async with aiohttp.ClientSession() as session:
        first = await _read_events(session, f"{admin}/events", EventKind.DISCONNECT)
        async with connect(running.url, additional_headers=KEYED):
            pass
        resumed = await _read_events(
            session, f"{admin}/events?after={first[-1]['seq']}", EventKind.DISCONNECT
        )
    assert resumed[0]["kind"] == "connect"
    assert {e["seq"] for e in resumed}.isdisjoint(e["seq"] for e in first)


@pytest.mark.parametrize("path", ["connections", "usage"])
async def test_admin_endpoints_are_read_only(gateway: GatewayFactory, path: str) -> None:
    running = await gateway(http_api(), admin=True)
    admin = running.connections_url.rsplit("/", 1)[0] + "/_wsgate"
    async with aiohttp.ClientSession() as session, session.post(f"{admin}/{path}") as reply:
        assert reply.status in (403, 405)


async def test_an_open_event_stream_does_not_hold_up_shutdown(
    backend: Backend, authorizers: Any
) -> None:
    """aiohttp waits for running handlers on shutdown (60 s by default); streams must end."""
    running = await start_gateway(
        GatewayConfig(
            template=http_api(),
            backend=backend.url,
            port=0,
            authorizers={ARN: authorizers},
            admin=True,
        )
    )
    admin = running.connections_url.rsplit("/", 1)[0] + "/_wsgate"
    async with aiohttp.ClientSession() as session, session.get(f"{admin}/events") as stream:
        assert stream.status == 200
        started = time.monotonic()
        await asyncio.wait_for(running.close(), 30)
        assert time.monotonic() - started < 10
        assert await asyncio.wait_for(stream.content.read(), 10) == b""


async def test_throttling_and_refused_connects_are_events(
    gateway: GatewayFactory, authorizers: Any
) -> None:
    running = await gateway(http_api(stage_throttle=(3, 0.001)), admin=True)
    authorizers.mode = "unauthorized"
    with pytest.raises(InvalidStatus):  # a stage token is taken before the authorizer runs
        await connect(running.url, additional_headers=KEYED)
    authorizers.mode = "allow"
    async with connect(running.url, additional_headers=KEYED) as client:  # the second token
        await client.send(json.dumps({"action": "echo"}))  # the last one
        await client.recv()
        await client.send(json.dumps({"action": "echo"}))
        assert json.loads(await client.recv())["message"] == "Too Many Requests"
    events = running.gateway.events.recent()
    throttled = [e for e in events if e.kind == EventKind.THROTTLED]
    assert [(e.detail["route"], e.detail["status"]) for e in throttled] == [("echo", 429)]
    (refused,) = [e for e in events if e.kind == EventKind.CONNECT_REFUSED]
    assert refused.detail["status"] == 401
