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


REPLYING = frozenset(route.key for route in service_routes() if route.reply)
"""Routes whose answer body API Gateway sends to the sender (``Route.reply``)."""


@dataclass
class Outcome:
    """What a handler did, for the response and the request's log line."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    fan_out: FanOutResult | None = None
    reason: str | None = None
    """Why the request was not served as asked, for the log line."""
    reply: bytes | None = None
    """A frame for the sender alone, answered as the body of a replying route."""


async def push_to_sender(backends: Backends, connection_id: str, frame: bytes) -> bool:
    """Push a frame to the sender through ``@connections``; True when it was delivered.

    Only for routes that do not reply: there the gateway sends the client nothing from the
    integration's answer, so a push is the only way the client learns what happened.
    """
    api = await backends.push()
    result = await api.fan_out([connection_id], frame)
    return result.delivered == 1


async def to_sender(
    route_key: str, backends: Backends, connection_id: str, frame: bytes, reason: str | None
) -> Outcome:
    """A frame for the sender only: the route response where the route replies (no extra
    hop: the answer travels back on the integration call already made), else a push."""
    if route_key in REPLYING:
        return Outcome(reply=frame, reason=reason)
    delivered = await push_to_sender(backends, connection_id, frame)
    return Outcome(fan_out=FanOutResult(delivered=int(delivered)), reason=reason)


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


HELP_FRAME = frames.help_frame()
"""The same for every caller (it depends on the route table only): encoded once."""


@handles(DEFAULT)
async def default(request: IntegrationRequest, backends: Backends) -> Outcome:
    return await to_sender(DEFAULT, backends, request.connectionId, HELP_FRAME, None)


async def _to_room(
    route_key: str,
    request: IntegrationRequest,
    backends: Backends,
    members: list[str],
    data: bytes,
) -> Outcome:
    """``data`` to every member; the sender's own copy is the reply where the route replies
    (one ``@connections`` call fewer per message, whatever the room's size), else a push.

    The sender is always included, even when the room index (eventually consistent) does not
    list it yet.
    """
    api = await backends.push()
    sender = request.connectionId
    gone = backends.forget_connection
    if route_key in REPLYING:
        others = [member for member in members if member != sender]
        return Outcome(fan_out=await api.fan_out(others, data, on_gone=gone), reply=data)
    targets = members if sender in members else [*members, sender]
    return Outcome(fan_out=await api.fan_out(targets, data, on_gone=gone))


async def _record_lost(
    route_key: str,
    request: IntegrationRequest,
    backends: Backends,
    error: UnknownConnectionError,
) -> Outcome:
    """The sender has no record (the store lost it, or it never connected): tell it, and
    answer 2xx so the gateway does not add an error of its own; on a route that does not
    reply, 404 when the push found no one to tell."""
    frame = frames.error_frame(RECORD_LOST)
    if route_key in REPLYING:
        return Outcome(reply=frame, reason="record-lost")
    if await push_to_sender(backends, request.connectionId, frame):
        return Outcome(200, {"message": str(error), "toldSender": True}, reason="record-lost")
    raise HandlerError(404, str(error))


@handles("joinroom")
async def join_room(request: MessageRequest[JoinRoom], backends: Backends) -> Outcome:
    store = await backends.store()
    room = request.payload.roomname
    try:
        await store.join_room(request.connectionId, room)
    except UnknownConnectionError as error:
        return await _record_lost("joinroom", request, backends, error)
    rooms = await backends.rooms()
    rooms.forget(room)
    members = await rooms.members(room)
    data = frames.joined_frame(room, request.userId)
    return await _to_room("joinroom", request, backends, members, data)


@handles("sendmessage")
async def send_message(request: MessageRequest[SendMessage], backends: Backends) -> Outcome:
    store = await backends.store()
    sender = await store.get_connection(request.connectionId)
    if sender is None:
        missing = UnknownConnectionError(request.connectionId)
        return await _record_lost("sendmessage", request, backends, missing)
    if sender.room is None:
        frame = frames.error_frame(JOIN_A_ROOM_FIRST)
        return await to_sender("sendmessage", backends, request.connectionId, frame, "no-room")
    members = await (await backends.rooms()).members(sender.room)
    data = frames.message_frame(
        sender.room, request.userId, request.payload.message, int(time.time() * 1000)
    )
    return await _to_room("sendmessage", request, backends, members, data)
