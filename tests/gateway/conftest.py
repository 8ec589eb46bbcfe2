"""A recording HTTP backend, test authorizers, and a factory for gateways on free ports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.gateway.templates import KEY
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.running import RunningGateway, start_gateway

ARN = "arn:aws:lambda:us-east-1:123456789012:function:auth"


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Backend:
    """Answers integration calls; ``status``/``delay`` per path make it misbehave on demand."""

    calls: list[Call] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        call = Call(request.method, request.path, dict(request.headers), body, dict(request.query))
        self.calls.append(call)
        await asyncio.sleep(self.delay.get(request.path, 0))
        status = self.status.get(request.path, 200)
        return web.json_response({"echo": body, "path": request.path}, status=status)

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    async def wait_for(self, path: str, wait_s: float = 5.0) -> Call:
        async with asyncio.timeout(wait_s):
            while True:
                for call in self.calls:
                    if call.path == path:
                        return call
                await asyncio.sleep(0.02)


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    server = Backend()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    server._runner = web.AppRunner(app, access_log=None)
    await server._runner.setup()
    await web.TCPSite(server._runner, "127.0.0.1", 0).start()
    server.url = f"http://127.0.0.1:{server._runner.addresses[0][1]}"
    yield server
    await server._runner.cleanup()


class Authorizers:
    """Authorizer functions for each outcome, recording the events they receive."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.mode = "allow"
        self.usage_key: str | None = KEY

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if self.mode == "unauthorized":
            raise Exception("Unauthorized")
        if self.mode == "crash":
            raise RuntimeError("boom")
        if self.mode == "malformed":
            return {"principalId": "x"}
        effect = "Deny" if self.mode == "deny" else "Allow"
        result: dict[str, Any] = {
            "principalId": "alice",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": effect,
                        "Resource": event["methodArn"],
                    }
                ],
            },
            "context": {"userId": "alice", "admin": True, "n": 1},
        }
        if self.usage_key:
            result["usageIdentifierKey"] = self.usage_key
        return result


@pytest.fixture
def authorizers() -> Authorizers:
    return Authorizers()


GatewayFactory = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
async def gateway(backend: Backend, authorizers: Authorizers) -> AsyncIterator[GatewayFactory]:
    started: list[RunningGateway] = []

    async def make(template: dict[str, Any], **options: Any) -> RunningGateway:
        config = GatewayConfig(
            template=template,
            backend=backend.url,
            port=0,
            authorizers={ARN: authorizers},
            **options,
        )
        running = await start_gateway(config)
        started.append(running)
        return running

    yield make
    for running in started:
        await running.close()
