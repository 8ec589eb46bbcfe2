"""``$disconnect`` (client close, idle timeout, server delete) and the ``@connections`` API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import boto3
import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from tests.support.connections_endpoint import ACCESS_KEY, REGION, SECRET_KEY, signed_headers

KEYED = {"x-api-key": KEY}
CREDENTIALS = {
    "aws_access_key_id": ACCESS_KEY,
    "aws_secret_access_key": SECRET_KEY,
    "region_name": REGION,
}


async def _connection_id(backend: Backend, index: int = -1) -> str:
    await backend.wait_for("/connect")
    return str([c for c in backend.calls if c.path == "/connect"][index].body["connectionId"])


async def test_disconnect_on_client_close_carries_the_close_code(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        connection_id = await _connection_id(backend)
        await client.close(code=4001, reason="bye")
    call = await backend.wait_for("/disconnect")
    assert call.method == "DELETE"
    assert call.body["connectionId"] == connection_id
    assert call.body["code"] == "4001"


async def test_idle_timeout_closes_and_disconnects(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api(), idle_timeout_s=0.3)
    async with connect(running.url, additional_headers=KEYED) as client:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(client.recv(), 5)
        assert client.close_code == 1001
    assert (await backend.wait_for("/disconnect")).body["code"] == "1001"


async def test_maximum_duration_closes(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(), max_duration_s=0.3)
    async with connect(running.url, additional_headers=KEYED) as client:
        with pytest.raises(ConnectionClosed):
            while True:  # activity does not extend the maximum duration
                await client.send(json.dumps({"action": "echo"}))
                await asyncio.wait_for(client.recv(), 5)
        assert client.close_code == 1001


async def test_boto3_management_api_works_unchanged(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api())
    api = boto3.client(
        "apigatewaymanagementapi", endpoint_url=running.connections_url, **CREDENTIALS
    )
    async with connect(
        running.url, additional_headers=KEYED, user_agent_header="pytest-ua"
    ) as client:
        connection_id = await _connection_id(backend)
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b'{"a":1}')
        assert json.loads(await asyncio.wait_for(client.recv(), 5)) == {"a": 1}
        info: dict[str, Any] = await asyncio.to_thread(
            api.get_connection, ConnectionId=connection_id
        )
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "pytest-ua"}
        assert info["ConnectedAt"] <= info["LastActiveAt"]  # parsed by botocore as datetimes
        await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(client.recv(), 5)
    call = await backend.wait_for("/disconnect")
    assert call.body["connectionId"] == connection_id
    with pytest.raises(ClientError) as gone:
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"x")
    assert gone.value.response["Error"]["Code"] == "GoneException"


async def test_aiobotocore_and_payload_limit(gateway: GatewayFactory, backend: Backend) -> None:
    running = await gateway(http_api(), message_limit=1000)
    async with connect(running.url, additional_headers=KEYED) as client:
        connection_id = await _connection_id(backend)
        session = get_session()
        async with session.create_client(
            "apigatewaymanagementapi", endpoint_url=running.connections_url, **CREDENTIALS
        ) as api:
            await api.post_to_connection(ConnectionId=connection_id, Data=b"hello")
            assert await asyncio.wait_for(client.recv(), 5) == "hello"
        async with aiohttp.ClientSession() as http:
            url = f"{running.connections_url}/@connections/{connection_id}"
            big = b"x" * 1001
            headers = signed_headers("POST", url, big)
            async with http.post(url, data=big, headers=headers) as response:
                assert response.status == 413
            url = f"{running.connections_url}/@connections/unknown="
            async with http.post(url, headers=signed_headers("POST", url)) as response:
                assert response.status == 410
