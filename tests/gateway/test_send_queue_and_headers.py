"""Send queues (a client that stops reading), handshake headers, and hostile JSON bodies.

Sources:
- @connections: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
  (POST sends a message; 410 GoneException once the connection is gone).
- Header size: "Total combined size of request line and header values: 10240 bytes",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
  (REST API quotas; UNCONFIRMED for WebSocket, see wsgate/gateway/limits.py).
- $context.identity.userAgent: https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-mapping-template-reference.html
- Route selection falls back to $default for any body it cannot evaluate:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from urllib.parse import urlsplit

import aiohttp
import pytest
from websockets.asyncio.client import connect

from tests.gateway import rawws
from tests.gateway.conftest import Authorizers, Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from tests.support.connections_endpoint import signed_headers

KEYED = {"x-api-key": KEY}
KEYED_RAW = {"x-api-key": KEY.encode()}
POST_BOUND_S = 2.0
"""A POST must answer at once whatever the client does; 2 s is far above a local round trip."""


async def _connection_ids(backend: Backend, count: int) -> list[str]:
    ids: list[str] = []
    async with asyncio.timeout(10):
        while len(ids) < count:
            await backend.wait_for("/connect")
            ids = [str(c.body["connectionId"]) for c in backend.calls if c.path == "/connect"]
            await asyncio.sleep(0.02)
    return ids


def _small_window_socket(url: str) -> socket.socket:
    """A client socket with a 16 KB receive buffer: loopback autotunes receive buffers up to
    tens of MB, which would hide a client that stops reading for a long time."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect((parts.hostname, parts.port))
    sock.setblocking(False)
    return sock


async def test_member_that_never_reads_is_disconnected_and_the_room_keeps_flowing(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api(), send_queue_bytes=256 * 1024)
    chunk = base64.b64encode(os.urandom(48 * 1024))  # 64 KB that deflate cannot shrink
    async with (
        connect(
            running.url,
            additional_headers=KEYED,
            max_queue=1,
            close_timeout=1,
            sock=_small_window_socket(running.url),
        ),
        connect(running.url, additional_headers=KEYED, max_size=None) as reader,
    ):
        stalled_id, reader_id = await _connection_ids(backend, 2)
        statuses: list[int] = []
        async with aiohttp.ClientSession() as http:
            for _ in range(400):  # 25 MB: far beyond socket buffers plus the send queue
                for target in (stalled_id, reader_id):
                    started = time.monotonic()
                    url = f"{running.connections_url}/@connections/{target}"
                    async with http.post(
                        url, data=chunk, headers=signed_headers("POST", url, chunk)
                    ) as response:
                        assert time.monotonic() - started < POST_BOUND_S
                        if target == stalled_id:
                            statuses.append(response.status)
                        else:
                            assert response.status == 200
                assert len(await asyncio.wait_for(reader.recv(), 5)) == len(chunk)
                if statuses[-1] == 410:
                    break
        assert statuses[-1] == 410, "the stalled member was never disconnected"
        assert statuses.count(410) == 1 and set(statuses[:-1]) == {200}
    call = await backend.wait_for("/disconnect")
    assert call.body["connectionId"] == stalled_id
    assert call.body["code"] == "1008"


async def test_header_over_the_limit_is_refused_and_not_echoed(
    gateway: GatewayFactory, authorizers: Authorizers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    running = await gateway(http_api())
    for size in (10_300, 50_000, 200_000):
        secret = b"s3cr3t-" + b"a" * size
        reply = await rawws.handshake(
            running.url, rawws.handshake_bytes(running.url, KEYED_RAW | {"X-Secret": secret})
        )
        assert reply.status == 431, (size, reply.head)
        assert json.loads(reply.body) == {"message": "Request Header Fields Too Large"}
        assert b"s3cr3t" not in reply.head + reply.body
    assert "s3cr3t" not in caplog.text
    assert "Traceback" not in caplog.text
    assert authorizers.events == []  # refused before anything else ran


async def test_user_agent_with_byte_ff_connects(
    gateway: GatewayFactory, authorizers: Authorizers, backend: Backend
) -> None:
    """Header bytes beyond ASCII are ISO-8859-1 (RFC 9110 5.5): 0xFF reaches the authorizer
    and $context.identity.userAgent as ``ÿ`` instead of failing the handshake."""
    running = await gateway(http_api())
    raw = await rawws.connect_raw(running.url, KEYED_RAW | {"User-Agent": b"agent\xff"})
    event = authorizers.events[-1]
    assert event["headers"]["User-Agent"] == "agent\u00ff"
    connection_id = (await backend.wait_for("/connect")).body["connectionId"]
    async with aiohttp.ClientSession() as http:
        url = f"{running.connections_url}/@connections/{connection_id}"
        async with http.get(url, headers=signed_headers("GET", url)) as response:
            assert (await response.json())["identity"]["userAgent"] == "agent\u00ff"
    await raw.aclose()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"action": "echo", "x": "\\ud800"}', id="lone-high-surrogate"),
        pytest.param('{"action": "\\udfff"}', id="surrogate-action"),
        pytest.param("[" * 1_000 + "]" * 1_000, id="depth-1000"),
        pytest.param('{"action": "echo", "x": ' + "[" * 5_000 + "]" * 5_000 + "}", id="depth-5000"),
        pytest.param("[" * 30_000, id="depth-30000-unclosed"),
    ],
)
async def test_hostile_json_is_answered_and_the_connection_stays_open(
    gateway: GatewayFactory, backend: Backend, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    running = await gateway(http_api(with_default=False))
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(body)
        reply = json.loads(await asyncio.wait_for(client.recv(), 10))
        assert reply.get("path") == "/echo" or reply["message"] == "Forbidden", reply
        await client.send(json.dumps({"action": "echo"}))
        assert json.loads(await asyncio.wait_for(client.recv(), 10))["path"] == "/echo"
    assert client.close_code == 1000
    assert "Traceback" not in caplog.text


async def test_surrogate_in_a_template_output_reaches_the_backend(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """``$input.path`` decodes ``\\ud800`` into a lone surrogate, which no UTF-8 body can hold:
    it is written as ``?`` (as Java's encoder does) instead of failing the message."""
    template = http_api()
    props = template["Resources"]["EchoIntegration"]["Properties"]
    props["RequestTemplates"] = {"$default": '{"x": "$input.path(\'$.x\')"}'}
    running = await gateway(template)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send('{"action": "echo", "x": "a\\ud800b"}')
        reply = json.loads(await asyncio.wait_for(client.recv(), 10))
    assert reply["echo"] == {"x": "a?b"}
