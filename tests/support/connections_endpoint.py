"""A small real ``@connections`` HTTP endpoint for tests of code that pushes to clients.

It speaks the management API's wire format (``POST/GET/DELETE /{stage}/@connections/{id}``),
checks every request's SigV4 signature as API Gateway does (the gateway's own check, 403 when
it fails, recorded in ``refused``), records what it receives, and answers 410 ``GoneException``
for ids it does not know, which is what API Gateway does for a closed connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wsgate.gateway.sigv4 import SERVICE, SigV4Verifier, refused
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

ACCESS_KEY = LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]
SECRET_KEY = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
REGION = "us-east-1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signed_headers(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """Headers of a request signed with the local credentials, for hand-made HTTP calls."""
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION).add_auth(request)
    return dict(request.headers.items())


@dataclass
class ConnectionsEndpoint:
    """Open connections by id, and every frame posted to each."""

    stage: str = "prod"
    open_ids: set[str] = field(default_factory=set)
    received: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    deleted: list[str] = field(default_factory=list)
    delay_s: float = 0.0
    fail_first: dict[str, list[int]] = field(default_factory=dict)
    """Statuses to answer (in order) before accepting a post to that id: 429, 500..."""
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    credentials: dict[str, str] | None = field(default_factory=lambda: {ACCESS_KEY: SECRET_KEY})
    """Access key id -> secret accepted; None accepts unsigned requests."""
    refused: list[str] = field(default_factory=list)
    """``METHOD path`` of every request refused for its signature."""
    url: str = ""
    _runner: web.AppRunner | None = None

    @web.middleware
    async def _signed(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        verifier = SigV4Verifier(self.credentials, REGION) if self.credentials else None
        denied = await refused(request, verifier)
        if denied is not None:
            self.refused.append(f"{request.method} {request.path}")
            return denied
        return await handler(request)

    async def _post(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["id"]
        self.attempts[connection_id] += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        failures = self.fail_first.get(connection_id)
        if failures:
            status = failures.pop(0)
            kind = "LimitExceededException" if status == 429 else "InternalServerErrorException"
            return web.json_response(
                {"message": kind}, status=status, headers={"x-amzn-ErrorType": kind}
            )
        if connection_id not in self.open_ids:
            return web.json_response(
                {"message": "Gone"}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
            )
        self.received[connection_id].append(await request.read())
        return web.Response(status=200)

    async def _get(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["id"]
        if connection_id not in self.open_ids:
            return web.json_response(
                {"message": "Gone"}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
            )
        return web.json_response(
            {"connectedAt": "2026-01-01T00:00:00Z", "identity": {"sourceIp": "127.0.0.1"}}
        )

    async def _delete(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["id"]
        if connection_id not in self.open_ids:
            return web.json_response(
                {"message": "Gone"}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
            )
        self.open_ids.discard(connection_id)
        self.deleted.append(connection_id)
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application(middlewares=[self._signed])
        path = f"/{self.stage}/@connections/{{id}}"
        app.router.add_post(path, self._post)
        app.router.add_get(path, self._get)
        app.router.add_delete(path, self._delete)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/{self.stage}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


EndpointT = TypeVar("EndpointT", bound=ConnectionsEndpoint)


@contextmanager
def served_in_thread(server: EndpointT) -> Iterator[EndpointT]:
    """``server`` on its own loop and thread, for code under test that runs ``asyncio.run``
    itself (the Lambdas) and so cannot share the test's loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
