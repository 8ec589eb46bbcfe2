"""Open connections, and the ``@connections`` management API the backend pushes through.

Served at the SDK endpoint form ``/{stage}/@connections/{connectionId}`` so boto3's and
aiobotocore's ``apigatewaymanagementapi`` clients work unchanged with ``endpoint_url``; their
SigV4 signatures are checked against the gateway's configured credentials (``sigv4``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from wsgate.gateway import errors
from wsgate.gateway.events import EventBus, EventKind
from wsgate.gateway.frames import SendQueueFull, WebSocketLink
from wsgate.gateway.sigv4 import SigV4Verifier, refused


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Connection:
    """One client connection and what API Gateway remembers about it."""

    connection_id: str
    link: WebSocketLink
    connected_at: int
    """Epoch milliseconds."""
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any]
    api_key: str | None
    last_active: float = field(default_factory=time.time)
    closed_by_server: tuple[int, str] | None = None

    def touch(self) -> None:
        self.last_active = time.time()

    @property
    def user(self) -> Any:
        """Who the authorizer said this is (``principalId``), for events and logs."""
        return self.authorizer.get("principalId")

    @property
    def closed(self) -> bool:
        return not self.link.open

    def send(self, data: bytes, *, text: bool = True) -> bool:
        """Queue a message for the client without waiting on its socket.

        False when the connection is gone. A client whose queue overflows is not reading: it is
        disconnected (``errors.CLOSE_SLOW_CONSUMER``) so the senders keep flowing, and its
        ``$disconnect`` integration runs as for any other close.
        """
        try:
            self.link.send(data, text=text)
        except ConnectionResetError:
            return False
        except SendQueueFull:
            self.close(errors.CLOSE_SLOW_CONSUMER, errors.SLOW_CONSUMER_REASON)
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if self.closed_by_server is None:
            self.closed_by_server = (code, reason)
        self.link.close(code, reason)


class ConnectionRegistry:
    """Connections by id, and the HTTP handlers of ``@connections``."""

    verifier: SigV4Verifier | None = None
    """SigV4 check of every ``@connections`` request (None: unsigned requests accepted)."""

    def __init__(self, message_limit: int) -> None:
        self.connections: dict[str, Connection] = {}
        self.message_limit = message_limit
        self.events = EventBus()

    def add(self, connection: Connection) -> None:
        self.connections[connection.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self.connections.pop(connection_id, None)

    def _gone(self, connection_id: str) -> web.Response:
        return web.json_response(
            {"message": f"Connection {connection_id} is gone."},
            status=410,
            headers={"x-amzn-ErrorType": "GoneException"},
        )

    async def post(self, request: web.Request) -> web.Response:
        if (denied := await refused(request, self.verifier)) is not None:
            return denied
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None or connection.closed:
            self.events.publish(EventKind.PUSH_GONE, connection_id, status=410)
            return self._gone(connection_id)
        data = await request.read()
        if len(data) > self.message_limit:
            return web.json_response(
                {"message": "Request entity too large"},
                status=413,
                headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
            )
        try:
            data.decode("utf-8")
            text = True
        except UnicodeDecodeError:
            text = False
        if not connection.send(data, text=text):
            return self._gone(connection_id)
        self.events.publish(
            EventKind.PUSH,
            connection_id,
            status=200,
            user=connection.user,
            bytes=len(data),
            preview=data[:200].decode(errors="replace"),
        )
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.Response:
        if (denied := await refused(request, self.verifier)) is not None:
            return denied
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None or connection.closed:
            return self._gone(connection_id)
        return web.json_response(
            {
                "connectedAt": _iso(connection.connected_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": _iso(int(connection.last_active * 1000)),
            }
        )

    async def delete(self, request: web.Request) -> web.Response:
        if (denied := await refused(request, self.verifier)) is not None:
            return denied
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None or connection.closed:
            return self._gone(connection_id)
        self.events.publish(EventKind.KICK, connection_id, status=204)
        connection.close(errors.CLOSE_NORMAL, "Connection deleted")
        return web.Response(status=204)

    def add_routes(self, app: web.Application, stage: str) -> None:
        path = f"/{stage}/@connections/{{connection_id}}"
        app.router.add_post(path, self.post)
        app.router.add_get(path, self.get)
        app.router.add_delete(path, self.delete)
