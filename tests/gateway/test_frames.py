"""The WebSocket layer against API Gateway's documented frame rules and RFC 6455.

Sources:
- QUOTAS: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
  (frame 32 KB, message 128 KB; "messages larger than 32 KB must be split into multiple frames,
  each 32 KB or smaller ... this applies to @connections commands"; larger closes with 1009).
- BINARY: https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html
- RFC 6455 sections 5.1 (client frames are masked, else close 1002), 5.2, 5.5.2 (ping/pong).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

from tests.gateway import rawws
from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from tests.support.connections_endpoint import signed_headers
from wsgate.gateway.frames import fragments

KEYED = {"x-api-key": KEY}
KEYED_RAW = {"x-api-key": KEY.encode()}
WAIT_S = 10.0


async def _frame(client: ClientConnection, wait_s: float = WAIT_S) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), wait_s))


async def _closed_with(client: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(client.recv(), WAIT_S)
    return client.close_code


def _echo(size: int) -> str:
    """An ``echo`` message of exactly ``size`` bytes."""
    head = json.dumps({"action": "echo", "pad": ""})
    return head[:-2] + "x" * (size - len(head)) + '"}'


async def test_frame_limit_counts_bytes_not_characters(gateway: GatewayFactory) -> None:
    """60,000 bytes of two-byte UTF-8 is 30,000 characters: still over the 32 KB frame quota."""
    running = await gateway(http_api())
    text = json.dumps({"action": "echo", "text": "é" * 29_985}, ensure_ascii=False)
    assert len(text) < 32 * 1024 < len(text.encode()) == 60_000
    async with connect(running.url, additional_headers=KEYED, compression=None) as client:
        await client.send(text)
        assert await _closed_with(client) == 1009


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_message_in_frames_of_32k_is_accepted_up_to_128k(
    gateway: GatewayFactory, backend: Backend, compression: str | None
) -> None:
    """Four frames of 30 KB make a 120 KB message: accepted, routed, and the 120 KB reply comes
    back (split by the gateway into frames of at most 32 KB). With and without deflate."""
    running = await gateway(http_api())
    message = _echo(120 * 1024)
    chunks = [message[i : i + 30 * 1024] for i in range(0, len(message), 30 * 1024)]
    async with connect(
        running.url, additional_headers=KEYED, compression=compression, max_size=None
    ) as client:
        extensions = client.response.headers.get("Sec-WebSocket-Extensions", "")
        assert ("permessage-deflate" in extensions) == (compression == "deflate")
        await client.send(chunks)  # an iterable is sent as one fragmented message
        reply = await _frame(client)
    assert reply["path"] == "/echo"
    assert json.loads(reply["echo"]["body"]) == json.loads(message)


async def test_message_over_128k_in_small_frames_closes_1009(gateway: GatewayFactory) -> None:
    running = await gateway(http_api())
    message = _echo(129 * 1024)
    chunks = [message[i : i + 30 * 1024] for i in range(0, len(message), 30 * 1024)]
    async with connect(running.url, additional_headers=KEYED, max_size=None) as client:
        await client.send(chunks)
        assert await _closed_with(client) == 1009


async def test_one_large_frame_inside_a_fragmented_message_closes_1009(
    gateway: GatewayFactory,
) -> None:
    running = await gateway(http_api())
    message = _echo(60 * 1024)
    async with connect(running.url, additional_headers=KEYED, compression=None) as client:
        await client.send([message[:10_000], message[10_000:]])  # second frame: 50 KB
        assert await _closed_with(client) == 1009


async def test_connections_post_over_32k_arrives_in_frames_of_32k(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api())
    raw = await rawws.connect_raw(running.url, KEYED_RAW)
    connection_id = (await backend.wait_for("/connect")).body["connectionId"]
    data = b"y" * (100 * 1024)
    async with aiohttp.ClientSession() as http:
        url = f"{running.connections_url}/@connections/{connection_id}"
        async with http.post(url, data=data, headers=signed_headers("POST", url, data)) as response:
            assert response.status == 200
        async with http.delete(url, headers=signed_headers("DELETE", url)) as response:
            assert response.status == 204
    frames = await raw.frames_until_close()
    data_frames = [f for f in frames if f.opcode in (Opcode.TEXT, Opcode.CONT)]
    assert [f.opcode for f in data_frames] == [Opcode.TEXT] + [Opcode.CONT] * 3
    assert all(len(f.data) <= 32 * 1024 for f in data_frames)
    assert b"".join(f.data for f in data_frames) == data
    assert data_frames[-1].fin and not any(f.fin for f in data_frames[:-1])


async def test_unmasked_client_frame_closes_1002(gateway: GatewayFactory) -> None:
    """RFC 6455 5.1: a server MUST close the connection on an unmasked client frame (1002)."""
    running = await gateway(http_api())
    raw = await rawws.connect_raw(running.url, KEYED_RAW)
    await raw.send(rawws.frame(Opcode.TEXT, b'{"action":"echo"}', mask=False))
    assert await raw.close_code() == 1002


async def test_invalid_utf8_text_closes_1007(gateway: GatewayFactory) -> None:
    running = await gateway(http_api())
    raw = await rawws.connect_raw(running.url, KEYED_RAW)
    await raw.send(rawws.frame(Opcode.TEXT, b'{"action":"\xff"}'))
    assert await raw.close_code() == 1007


async def test_slow_integration_does_not_delay_the_next_reply(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """Messages of one connection are handled concurrently (AWS does not queue them)."""
    backend.delay["/say"] = 5.0
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "slow"}))
        await backend.wait_for("/say")
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client, wait_s=3.5))["path"] == "/echo"


async def test_pong_never_waits_on_an_integration(
    gateway: GatewayFactory, backend: Backend
) -> None:
    backend.delay["/say"] = 5.0
    running = await gateway(http_api(), message_concurrency=1)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "slow"}))
        await backend.wait_for("/say")
        pong = await client.ping()
        await asyncio.wait_for(pong, 3.5)


async def test_stage_url_with_trailing_slash_connects(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """AWS's wscat example and Chalice print ``wss://.../stage/``."""
    running = await gateway(http_api())
    async with connect(running.url + "/", additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["path"] == "/echo"


def test_fragments_cut_at_the_frame_limit() -> None:
    assert fragments(b"", 4) == [b""]
    assert fragments(b"abcd", 4) == [b"abcd"]
    assert fragments(b"abcdefghi", 4) == [b"abcd", b"efgh", b"i"]


async def test_client_leaving_during_connect_leaves_no_trace(
    gateway: GatewayFactory, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """The handshake is answered after the $connect integration; a client gone by then is
    simply forgotten: no traceback, no registered connection."""
    backend.delay["/connect"] = 1.0
    running = await gateway(http_api())
    _reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(rawws.handshake_bytes(running.url, KEYED_RAW))
    await writer.drain()
    await backend.wait_for("/connect")
    writer.close()
    await asyncio.sleep(2.0)
    assert running.gateway.registry.connections == {}
    assert "Traceback" not in caplog.text
