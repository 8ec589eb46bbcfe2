"""The real service on 127.0.0.1, against moto's DynamoDB server and a real @connections server."""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sanic import Sanic

from ec2_service.app import create_app
from ec2_service.settings import ServiceSettings
from shared.integration_models import example_values
from shared.names import INTEGRATION_SECRET_HEADER
from tests.support.connections_endpoint import ConnectionsEndpoint
from tests.support.moto import create_connections_table, moto_server

Sanic.test_mode = True
_names = itertools.count()
_tables = itertools.count()
SECRET = "test-caller-secret-0123456789"
API_ID = example_values()["apiId"]


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def table_name(dynamodb_endpoint: str) -> str:
    name = f"connections-{next(_tables)}"
    create_connections_table(dynamodb_endpoint, name)
    return name


@dataclass
class Service:
    url: str
    http: aiohttp.ClientSession
    endpoint: ConnectionsEndpoint
    table_name: str
    app: Sanic[Any, Any]

    def body(self, connection_id: str, **fields: Any) -> dict[str, Any]:
        return example_values() | {
            "connectionId": connection_id,
            "tableName": self.table_name,
            **fields,
        }

    async def call(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        secret: str | None = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Call the service as API Gateway does (with the caller secret) unless told not to;
        the body is None when the service answered none (a replying route with nothing to say)."""
        data = body if isinstance(body, (bytes, str)) else None
        sent = {"Content-Type": "application/json"} | (headers or {})
        if secret is not None:
            sent[INTEGRATION_SECRET_HEADER] = secret
        async with self.http.request(
            method,
            self.url + path,
            data=data if data is not None else json.dumps(body).encode(),
            headers=sent,
        ) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if raw else None

    async def connect(self, connection_id: str, user: str) -> None:
        self.endpoint.open_ids.add(connection_id)
        body = self.body(
            connection_id,
            routeKey="$connect",
            eventType="CONNECT",
            userId=user,
            userName=user.title(),
            sourceIp="127.0.0.1",
            userAgent="pytest",
            connectedAt=1_700_000_000_000,
        )
        status, _ = await self.call("POST", "/connect", body)
        assert status == 200

    async def join(self, connection_id: str, user: str, room: str) -> tuple[int, Any]:
        payload = {"action": "joinroom", "roomname": room}
        return await self.call(
            "POST", "/joinroom", self.body(connection_id, userId=user, payload=payload)
        )

    async def send(self, connection_id: str, user: str, payload: Any) -> tuple[int, Any]:
        return await self.call(
            "POST", "/sendmessage", self.body(connection_id, userId=user, payload=payload)
        )


def settings_for(table_name: str, dynamodb_endpoint: str, **overrides: Any) -> ServiceSettings:
    """What the stack would write for this table, with the test's caller secret."""
    values: dict[str, Any] = {
        "api_id": API_ID,
        "table_name": table_name,
        "dynamodb_endpoint": dynamodb_endpoint,
        "integration_secret": SECRET,
        "log_level": "WARNING",
    }
    return ServiceSettings(**(values | overrides))


@asynccontextmanager
async def running(settings: ServiceSettings) -> AsyncIterator[tuple[str, Sanic[Any, Any]]]:
    """The service on a free loopback port, started and stopped as Sanic does."""
    app = create_app(settings, name=f"wsgate_test_{next(_names)}")
    # A socket bound here: Sanic reads port=0 as "the default, 8000", which parallel runs share.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    port = server.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.fixture
async def service(dynamodb_endpoint: str, table_name: str) -> AsyncIterator[Service]:
    endpoint = ConnectionsEndpoint()
    await endpoint.start()
    settings = settings_for(table_name, dynamodb_endpoint, connections_endpoint=endpoint.url)
    async with running(settings) as (url, app), aiohttp.ClientSession() as http:
        yield Service(url, http, endpoint, table_name, app)
    await endpoint.stop()
