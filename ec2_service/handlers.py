"""What each WebSocket route does: one function per route key in ``shared.routes``.

Handlers receive the integration request already validated by the route's integration model
(and so its client payload by the client model). Identity is ``request.userId``, the
authorizer's principal carried by the request template, never a field the client sent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ec2_service.backends import Backends
from shared import frames
from shared.client_messages import JoinRoom, SendMessage
from shared.connection_store import UnknownConnectionError
from shared.connections_api import FanOutResult
from shared.integration_models import (
    ConnectRequest,
    DisconnectRequest,
    IntegrationRequest,
    MessageRequest,
)
from shared.routes import CONNECT, DEFAULT, DISCONNECT, service_routes

JOIN_A_ROOM_FIRST = 'Join a room before sending messages: {"action":"joinroom","roomname":"<room>"}'
RECORD_LOST = (
    "This connection is not known to the service (its record is gone); "
    "your message was not delivered. Reconnect to continue."
)


@dataclass
class Outcome:
    """What a handler did, for the response and the request's log line."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    fan_out: FanOutResult | None = None
    reason: str | None = None
    """Why the request was not served as asked, for the log line."""


async def tell_sender(backends: Backends, connection_id: str, message: str) -> bool:
    """Push an error frame to the sender; True when it was delivered.

    A push rather than the integration's response: these routes are one-way (the gateway sends
    the client nothing from the integration's answer), and a non-2xx answer reaches no one
    either, so ``@connections`` is the only way the client learns its message went nowhere.
    """
    api = await backends.push()
    result = await api.fan_out([connection_id], frames.error_frame(message))
    return result.delivered == 1


class HandlerError(Exception):
    """A request that is well-formed but cannot be served (e.g. an unknown connection)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


RequestT = TypeVar("RequestT", bound=IntegrationRequest)
Handler = Callable[[Any, Backends], Awaitable[Outcome]]
HANDLERS: dict[str, Handler] = {}


def handles(route_key: str) -> Callable[[Callable[[RequestT, Backends], Awaitable[Outcome]]], Any]:
    """Register the handler of ``route_key`` (which must exist in the route table)."""

    def register(
        function: Callable[[RequestT, Backends], Awaitable[Outcome]],
    ) -> Callable[[RequestT, Backends], Awaitable[Outcome]]:
        if route_key in HANDLERS:
            raise ValueError(f"route {route_key!r} has two handlers")
        HANDLERS[route_key] = cast(Handler, function)
        return function

    return register


def check_handlers() -> None:
    """Every route in the table has a handler, and every handler a route (fail at startup)."""
    keys = {route.key for route in service_routes()}
    missing = sorted(keys - HANDLERS.keys())
    extra = sorted(HANDLERS.keys() - keys)
    if missing or extra:
        raise RuntimeError(
            f"route table and handlers disagree: no handler for {missing}, "
            f"handlers for unknown routes {extra} (see ec2_service/handlers.py)"
        )


@handles(CONNECT)
async def connect(request: ConnectRequest, backends: Backends) -> Outcome:
    store = await backends.store()
    await store.put_connection(
        request.connectionId,
        user_id=request.userId,
        user_name=request.userName,
        connected_at=request.connectedAt,
        source_ip=request.sourceIp or None,
    )
    return Outcome()


@handles(DISCONNECT)
async def disconnect(request: DisconnectRequest, backends: Backends) -> Outcome:
    store = await backends.store()
    await store.delete_connection(request.connectionId)
    return Outcome()


@handles(DEFAULT)
async def default(request: IntegrationRequest, backends: Backends) -> Outcome:
    api = await backends.push()
    result = await api.fan_out([request.connectionId], frames.help_frame())
    return Outcome(fan_out=result)


async def _fan_out(
    request: IntegrationRequest, backends: Backends, members: list[str], data: bytes
) -> FanOutResult:
    store = await backends.store()
    api = await backends.push()
    return await api.fan_out(members, data, on_gone=store.delete_connection)


async def _record_lost(
    request: IntegrationRequest, backends: Backends, error: UnknownConnectionError
) -> Outcome:
    """The sender has no record (the store lost it, or it never connected): tell it, and
    answer 2xx so the gateway does not add an error of its own; 404 when no one heard."""
    if await tell_sender(backends, request.connectionId, RECORD_LOST):
        return Outcome(200, {"message": str(error), "toldSender": True}, reason="record-lost")
    raise HandlerError(404, str(error))


@handles("joinroom")
async def join_room(request: MessageRequest[JoinRoom], backends: Backends) -> Outcome:
    store = await backends.store()
    room = request.payload.roomname
    try:
        await store.join_room(request.connectionId, room)
    except UnknownConnectionError as error:
        return await _record_lost(request, backends, error)
    members = await store.room_members(room)
    if request.connectionId not in members:  # the index is eventually consistent
        members.append(request.connectionId)
    result = await _fan_out(request, backends, members, frames.joined_frame(room, request.userId))
    return Outcome(fan_out=result)


@handles("sendmessage")
async def send_message(request: MessageRequest[SendMessage], backends: Backends) -> Outcome:
    store = await backends.store()
    sender = await store.get_connection(request.connectionId)
    if sender is None:
        return await _record_lost(request, backends, UnknownConnectionError(request.connectionId))
    if sender.room is None:
        api = await backends.push()
        result = await api.fan_out([request.connectionId], frames.error_frame(JOIN_A_ROOM_FIRST))
        return Outcome(fan_out=result)
    members = await store.room_members(sender.room)
    if request.connectionId not in members:
        members.append(request.connectionId)
    data = frames.message_frame(
        sender.room, request.userId, request.payload.message, int(time.time() * 1000)
    )
    return Outcome(fan_out=await _fan_out(request, backends, members, data))
