"""Messages: frame rules, route and model selection, templates, integrations, responses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api

KEYED = {"x-api-key": KEY}


async def _frame(client: ClientConnection, wait_s: float = 5.0) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), wait_s))


async def _closed_with(client: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(client.recv(), 5)
    return client.close_code


async def test_binary_frame_closes_1003(gateway: GatewayFactory) -> None:
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(b"\x00\x01")
        assert await _closed_with(client) == 1003


async def test_frame_and_message_limits_close_1009(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(), frame_limit=100, message_limit=1000)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send("x" * 101)
        assert await _closed_with(client) == 1009
    async with connect(running.url, additional_headers=KEYED, max_size=None) as client:
        await client.send("y" * 1001)
        assert await _closed_with(client) == 1009


async def test_route_selection_and_default(gateway: GatewayFactory, backend: Backend) -> None:
    running = await gateway(http_api())
    raws = ["not json", json.dumps({"action": "unknown"}), json.dumps([1, 2])]
    async with connect(running.url, additional_headers=KEYED) as client:
        for raw in raws:
            await client.send(raw)
        await client.send(json.dumps({"action": "echo", "n": 1}))
        reply = await _frame(client)
        assert reply["path"] == "/echo"  # two-way: the backend's answer comes back
    defaults = [c.body["body"] for c in backend.calls if c.path == "/default"]
    assert sorted(defaults) == sorted(raws)  # handled concurrently: arrival order may vary


async def test_no_default_route_is_forbidden_and_stays_open(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(with_default=False))
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send("garbage")
        frame = await _frame(client)
        assert frame["message"] == "Forbidden"
        assert set(frame) == {"message", "connectionId", "requestId"}
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["path"] == "/echo"


async def test_model_validation_blocks_the_backend(
    gateway: GatewayFactory, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": ""}))
        frame = await _frame(client)
        assert frame["message"] == "Invalid request body"
        await client.send(json.dumps({"action": "say", "text": 'hi "there"'}))
        call = await backend.wait_for("/say")
    assert [c.path for c in backend.calls].count("/say") == 1
    # The client's text went through $util.escapeJavaScript: the backend got valid JSON.
    assert json.loads(call.body["body"]) == {"action": "say", "text": 'hi "there"'}
    assert (
        "Request body does not match model schema for content type application/json: ["
        in caplog.text
    )


async def test_one_way_routes_send_nothing_back(gateway: GatewayFactory, backend: Backend) -> None:
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "hi"}))
        await backend.wait_for("/say")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.recv(), 0.5)


async def test_backend_failure_is_internal_server_error_and_stays_open(
    gateway: GatewayFactory, backend: Backend
) -> None:
    backend.status["/say"] = 500
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "hi"}))
        assert (await _frame(client))["message"] == "Internal server error"
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["path"] == "/echo"


async def test_integration_timeout(gateway: GatewayFactory, backend: Backend) -> None:
    backend.delay["/say"] = 1.0
    running = await gateway(http_api(timeout_ms=200))
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "slow"}))
        assert (await _frame(client))["message"] == "Endpoint request timed out"


async def test_stage_throttling_on_messages(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(stage_throttle=(2, 0.001)))
    async with connect(running.url, additional_headers=KEYED) as client:  # uses 1 token
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["path"] == "/echo"
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["message"] == "Too Many Requests"


async def test_connection_id_header_through_request_parameters(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """The tutorial's proxy variant: the id travels as a header, not in the body."""
    template = http_api()
    props = template["Resources"]["EchoIntegration"]["Properties"]
    props["IntegrationType"] = "HTTP_PROXY"
    props["RequestParameters"] = {"integration.request.header.connectionId": "context.connectionId"}
    running = await gateway(template)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "echo", "x": 1}))
        reply = await _frame(client)
    call = await backend.wait_for("/echo")
    assert call.headers["connectionId"] == (await backend.wait_for("/connect")).body["connectionId"]
    assert call.body == {"action": "echo", "x": 1}  # proxy: the body as the client sent it
    assert reply["echo"] == {"action": "echo", "x": 1}


async def test_logs_endpoint_request_and_access_log(
    gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "echo"}))
        await _frame(client)
    assert "Endpoint request body after transformations:" in caplog.text
    access = [r.getMessage() for r in caplog.records if r.name == "wsgate.gateway.access"]
    assert any(json.loads(line)["routeKey"] == "echo" for line in access)
