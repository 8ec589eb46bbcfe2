"""The gateway's in-place reload (``POST /_wsgate/reload``) and its Lambda worker retirement.

A real gateway on 127.0.0.1 runs a template file; the tests rewrite the file, ask for a
reload and check, on a WebSocket opened before, that the next message follows the new routes
and models while the connection keeps its id, and that a template that fails to load changes
nothing. API Gateway's counterpart is a new deployment of the stage, which also keeps
connections: "you must deploy the API to make the changes take effect" on existing stages
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-set-up-websocket-deployment.html).
"""

# ruff: noqa: F811  (the gateway package's fixtures are imported, then requested by name)
from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.gateway.conftest import (  # noqa: F401
    ARN,
    Authorizers,
    Backend,
    authorizers,
    backend,
)
from tests.gateway.templates import API, KEY, http_api, http_integration
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.lambda_runtime import FunctionSpec, LambdaRuntime
from wsgate.gateway.reload import RELOAD_PATH, fresh_modules
from wsgate.gateway.running import RunningGateway, start_gateway

KEYED = {"x-api-key": KEY}
INVALID = "Invalid request body"


@pytest.fixture
async def running(
    tmp_path: Path, backend: Backend, authorizers: Authorizers
) -> AsyncIterator[tuple[RunningGateway, Path]]:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(http_api()))
    config = GatewayConfig(
        template=template,
        backend=backend.url,
        port=0,
        authorizers={ARN: authorizers},
        admin=True,
    )
    gateway = await start_gateway(config)
    yield gateway, template
    await gateway.close()


def _base(gateway: RunningGateway) -> str:
    return f"http://127.0.0.1:{gateway.port}"


async def _reload(gateway: RunningGateway, body: Any = None) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(_base(gateway) + RELOAD_PATH, json=body or {"reimport": False}) as reply,
    ):
        return reply.status, await reply.json()


async def _error_frame(client: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await client.send(json.dumps(message))
    async with asyncio.timeout(10):
        frame: dict[str, Any] = json.loads(await client.recv())
    return frame


def _stricter_say_and_a_shout_route(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    resources["SayModel"]["Properties"]["Schema"]["properties"]["text"]["minLength"] = 5
    resources["ShoutIntegration"] = http_integration("/shout")
    resources["ShoutRoute"] = {
        "Type": "AWS::ApiGatewayV2::Route",
        "Properties": {
            "ApiId": {"Ref": API},
            "RouteKey": "shout",
            "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "ShoutIntegration"}]]},
        },
    }
    return template


async def test_new_routes_and_models_apply_to_the_next_message_of_an_open_connection(
    running: tuple[RunningGateway, Path], backend: Backend
) -> None:
    gateway, template = running
    async with connect(gateway.url, additional_headers=KEYED) as client:
        connection_id = (await _error_frame(client, {"action": "say", "text": ""}))["connectionId"]
        await client.send(json.dumps({"action": "say", "text": "abc"}))
        await backend.wait_for("/say")
        await client.send(json.dumps({"action": "shout"}))  # no such route yet: $default
        await backend.wait_for("/default")

        template.write_text(json.dumps(_stricter_say_and_a_shout_route(http_api())))
        status, answer = await _reload(gateway)
        assert status == 200, answer
        assert "shout" in answer["routes"] and answer["retiredWorkers"] == 0

        frame = await _error_frame(client, {"action": "say", "text": "abc"})
        assert frame["message"] == INVALID and frame["connectionId"] == connection_id
        await client.send(json.dumps({"action": "shout"}))
        shout = await backend.wait_for("/shout")
        assert shout.body is not None
        async with aiohttp.ClientSession() as session:
            listed = await (await session.get(_base(gateway) + "/_wsgate/connections")).json()
        assert [c["connectionId"] for c in listed["connections"]] == [connection_id]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{ not json", "neither JSON nor YAML"),
        (json.dumps({"Resources": {}}), "exactly one API is emulated"),
    ],
)
async def test_a_template_that_fails_to_load_changes_nothing(
    running: tuple[RunningGateway, Path], backend: Backend, content: str, expected: str
) -> None:
    gateway, template = running
    async with connect(gateway.url, additional_headers=KEYED) as client:
        template.write_text(content)
        status, answer = await _reload(gateway)
        assert status == 400 and expected in answer["message"]
        assert "\n" not in answer["message"]
        frame = await _error_frame(client, {"action": "say", "text": ""})  # old model
        assert frame["message"] == INVALID
        await client.send(json.dumps({"action": "say", "text": "abc"}))
        await backend.wait_for("/say")


async def test_a_new_stage_name_is_refused(running: tuple[RunningGateway, Path]) -> None:
    gateway, template = running
    renamed = http_api()
    renamed["Resources"]["Stage"]["Properties"]["StageName"] = "dev"
    template.write_text(json.dumps(renamed))
    status, answer = await _reload(gateway)
    assert status == 400 and "restart wsgate local" in answer["message"]
    assert gateway.gateway.api.stage.name == "prod"


@pytest.mark.parametrize("body", ['{"reimport": "yes"}', "[1]", "{ nope"])
async def test_a_malformed_reload_request_is_a_400(
    running: tuple[RunningGateway, Path], body: str
) -> None:
    gateway, _ = running
    async with (
        aiohttp.ClientSession() as session,
        session.post(_base(gateway) + RELOAD_PATH, data=body) as reply,
    ):
        assert reply.status == 400
        assert "reimport" in (await reply.json())["message"]


async def test_reload_is_absent_without_admin(backend: Backend, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(http_api(authorizer=False)))
    gateway = await start_gateway(GatewayConfig(template=template, backend=backend.url, port=0))
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(_base(gateway) + RELOAD_PATH, json={}) as reply,
        ):
            assert reply.status == 403
    finally:
        await gateway.close()


def test_fresh_modules_imports_the_edited_file_and_restores_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "reloadprobe"
    package.mkdir()
    (package / "__init__.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import reloadprobe

    first = reloadprobe
    (package / "__init__.py").write_text("VERSION = 2\n")
    with fresh_modules(("reloadprobe",)):
        import reloadprobe as second
    assert (first.VERSION, second.VERSION) == (1, 2)

    (package / "__init__.py").write_text("VERSION = (\n")
    with pytest.raises(SyntaxError), fresh_modules(("reloadprobe",)):
        import reloadprobe
    assert sys.modules["reloadprobe"] is second
    monkeypatch.delitem(sys.modules, "reloadprobe")


async def test_retired_workers_are_never_reused(tmp_path: Path) -> None:
    """Idle workers stop at once; a busy one finishes its invocation, then stops."""
    (tmp_path / "pid_handler.py").write_text(
        "import os, time\n"
        "def handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return os.getpid()\n"
    )
    spec = FunctionSpec(
        "pids", "arn:aws:lambda:us-east-1:1:function:pids", "pid_handler.handler", (str(tmp_path),)
    )
    runtime = LambdaRuntime()
    try:
        first = (await runtime.invoke(spec, {})).result
        assert (await runtime.invoke(spec, {})).result == first  # warm
        assert await runtime.retire() == 1
        _gone(first)

        busy = asyncio.create_task(runtime.invoke(spec, {"sleep": 0.5}))
        await asyncio.sleep(0.2)
        assert await runtime.retire() == 0
        busy_pid = (await busy).result
        assert busy_pid != first
        _gone(busy_pid)
        assert (await runtime.invoke(spec, {})).result not in (first, busy_pid)
    finally:
        await runtime.close()


def _gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
