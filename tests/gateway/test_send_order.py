"""The order of messages to one client: written at once when nothing waits, queued behind a
paused socket otherwise, and never reordered between the two.

@connections POST: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import aiohttp
from websockets.asyncio.client import connect

from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from tests.gateway.test_send_queue_and_headers import _connection_ids, _small_window_socket
from tests.support.connections_endpoint import signed_headers

KEYED = {"x-api-key": KEY}


async def test_pushes_to_a_slow_reader_arrive_in_order(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """A reader slower than the pushes makes the gateway's socket pause and resume many times;
    messages written at once and messages queued behind a paused socket keep their order."""
    running = await gateway(http_api(), send_queue_bytes=64 * 1024 * 1024)
    padding = base64.b64encode(os.urandom(12 * 1024)).decode()  # deflate cannot shrink it
    count = 150
    async with connect(
        running.url,
        additional_headers=KEYED,
        max_size=None,
        max_queue=1,
        sock=_small_window_socket(running.url),
    ) as client:
        (target,) = await _connection_ids(backend, 1)
        url = f"{running.connections_url}/@connections/{target}"

        async def read_slowly() -> list[int]:
            seen = []
            for _ in range(count):
                seen.append(int(json.loads(await asyncio.wait_for(client.recv(), 10))["n"]))
                await asyncio.sleep(0.002)
            return seen

        reading = asyncio.create_task(read_slowly())
        async with aiohttp.ClientSession() as http:
            for n in range(count):
                body = json.dumps({"n": n, "padding": padding}).encode()
                async with http.post(
                    url, data=body, headers=signed_headers("POST", url, body)
                ) as r:
                    assert r.status == 200
        assert await reading == list(range(count))


async def test_a_message_sent_behind_queued_ones_waits_its_turn(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """While the socket was paused, messages queue; once it can take data again, a message sent
    before the queue drained goes after them, not straight to the socket."""
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        (target,) = await _connection_ids(backend, 1)
        connection = running.gateway.registry.connections[target]
        connection.link.pause_writing()
        assert connection.send(b"queued 1") and connection.send(b"queued 2")
        connection.link.resume_writing()
        assert connection.send(b"sent after")
        got = [await asyncio.wait_for(client.recv(), 5) for _ in range(3)]
    assert got == ["queued 1", "queued 2", "sent after"]
