"""A client during ``$connect``, before it is a connection, and the refusal of one.

The gateway's ``$connect`` checks (stage throttle, authorizer, API key, integration) fill in
what they learn here; the first that fails raises :class:`ConnectRefused` with the status the
client gets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from wsgate.gateway.ids import aws_id
from wsgate.gateway.request_context import header_text


class ConnectRefused(Exception):
    """``$connect`` is refused with ``status``; ``why`` goes to the execution log only."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass
class ConnectAttempt:
    """A client during ``$connect``: what ``$context`` says of it before it is a connection.

    The authorizer's context and the API key are filled in as the checks pass, so every
    ``$context`` built later (the integration's, the access log's) carries them.
    """

    connection_id: str
    request_id: str
    headers: dict[str, str]
    query: dict[str, str]
    source_ip: str
    user_agent: str
    connected_at: int
    authorizer: dict[str, Any] = field(default_factory=dict)
    api_key: str | None = None

    @classmethod
    def of(cls, request: web.Request) -> ConnectAttempt:
        return cls(
            connection_id=aws_id(),
            request_id=aws_id(),
            headers={k: header_text(v) for k, v in request.headers.items()},
            query={k: header_text(v) for k, v in request.query.items()},
            source_ip=request.remote or "127.0.0.1",
            user_agent=header_text(request.headers.get("User-Agent", "")),
            connected_at=int(time.time() * 1000),
        )

    @property
    def identity(self) -> tuple[str, int, str, str, dict[str, Any], str | None]:
        return (
            self.connection_id,
            self.connected_at,
            self.source_ip,
            self.user_agent,
            self.authorizer,
            self.api_key,
        )
