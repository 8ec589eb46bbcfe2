"""The WebSocket layer: frames in and out of one upgraded connection, and its send queue.

aiohttp parses the handshake (so ``@connections`` and the WebSocket API share one port); once
the gateway accepts, the socket is handed to :class:`WebSocketLink`, which drives the
``websockets`` library's sans-I/O protocol. That layer sees every frame, not only whole
messages, so the gateway enforces API Gateway's per-frame (32 KB) and per-message (128 KB)
limits separately, rejects unmasked client frames (1002), negotiates permessage-deflate, and
answers pings the moment they arrive, whatever the integrations are doing.

Outgoing messages go through a bounded per-connection queue written by one task: a sender
(``@connections`` POST, an error frame) never waits on the client's socket, and a client that
stops reading overflows its queue and is disconnected instead of stalling everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from wsgate.gateway import errors, limits

log = logging.getLogger(__name__)

_HOP_BY_HOP = frozenset({"date", "server", "content-length", "content-type"})
_HANDSHAKE_HEADERS = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    }
)
"""All the upgrade needs; the rest (User-Agent...) is the gateway's business, byte-safe."""


class SendQueueFull(Exception):
    """The client is not reading: its queued frames would exceed ``limits.SEND_QUEUE_BYTES``."""


@dataclass(frozen=True)
class Handshake:
    """The outcome of checking an upgrade request: the 101 to send, or the refusal."""

    response: Response
    protocol: ServerProtocol

    @property
    def accepted(self) -> bool:
        return self.response.status_code == 101


_DEFLATE = ServerPerMessageDeflateFactory(compress_settings={"memLevel": 5})
"""What the handshake answers is unchanged (no window-size parameters are imposed on clients),
but the compressor's hash table is 8 KiB instead of zlib's default 64 KiB, all of it touched
when a connection is accepted: with browsers offering deflate on every connection, that was
most of an idle connection's memory. ``memLevel`` 5 is what the websockets library's own
servers use (``enable_server_permessage_deflate``)."""


def negotiate(path: str, headers: Mapping[str, str]) -> Handshake:
    """Validate the upgrade (RFC 6455 section 4.2.1) and negotiate permessage-deflate.

    Nothing is written: the gateway runs its ``$connect`` checks between this and
    :func:`upgrade`, as API Gateway decides before answering the handshake.
    """
    protocol = ServerProtocol(extensions=[_DEFLATE])
    relevant = [(k, v) for k, v in headers.items() if k.lower() in _HANDSHAKE_HEADERS]
    try:
        request = Request(path, Headers(relevant))
    except InvalidHeader:
        # A handshake header with bytes RFC 9110 forbids: refused like any malformed upgrade.
        return Handshake(protocol.reject(400, "Bad Request"), protocol)
    return Handshake(protocol.accept(request), protocol)


async def upgrade(
    request: web.Request,
    handshake: Handshake,
    on_message: Callable[[str], None],
    *,
    frame_limit: int = limits.FRAME_LIMIT_BYTES,
    message_limit: int = limits.MESSAGE_LIMIT_BYTES,
    send_queue_bytes: int = limits.SEND_QUEUE_BYTES,
) -> WebSocketLink:
    """Send the 101 through aiohttp, then take the socket over from it."""
    reply = web.StreamResponse(status=101, reason="Switching Protocols")
    for name, value in handshake.response.headers.raw_items():
        if name.lower() not in _HOP_BY_HOP:
            reply.headers[name] = value
    reply.force_close()
    await reply.prepare(request)
    await reply.write_eof()
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client left during the handshake")
    protocol = ServerProtocol(state=State.OPEN, max_size=(message_limit, frame_limit))
    protocol.extensions = handshake.protocol.extensions
    link = WebSocketLink(
        protocol, transport, on_message, frame_limit=frame_limit, send_queue_bytes=send_queue_bytes
    )
    link.previous = transport.get_protocol()
    link.response = reply
    transport.set_protocol(link)
    return link


def fragments(payload: bytes, frame_limit: int) -> list[bytes]:
    """``payload`` cut into frames of at most ``frame_limit`` bytes (at least one frame).

    API Gateway splits messages over 32 KB into frames of 32 KB or less, ``@connections`` sends
    included (note ** of limits.QUOTAS_PAGE).
    """
    if not payload:
        return [b""]
    return [payload[i : i + frame_limit] for i in range(0, len(payload), frame_limit)]


class WebSocketLink(asyncio.Protocol):
    """One open connection: frames parsed as they arrive, messages sent through a bounded queue."""

    def __init__(
        self,
        protocol: ServerProtocol,
        transport: asyncio.Transport,
        on_message: Callable[[str], None],
        *,
        frame_limit: int,
        send_queue_bytes: int,
    ) -> None:
        self.protocol = protocol
        self.transport = transport
        self.on_message = on_message
        self.frame_limit = frame_limit
        self.send_queue_bytes = send_queue_bytes
        self.previous: asyncio.BaseProtocol | None = None
        self.response = web.StreamResponse(status=101)
        """The 101 aiohttp sent, returned by the handler once the connection closes."""
        self.closed = asyncio.Event()
        self.close_sent: tuple[int, str] | None = None
        self._parts: list[bytes] = []
        self._opcode: Opcode | None = None
        self._queue: deque[tuple[bool, bytes]] = deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._abort_handle: asyncio.TimerHandle | None = None
        self._writer = asyncio.get_running_loop().create_task(self._write_queue())

    # -- reading ----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._process()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._process()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.protocol.state is not State.CLOSED:
            with contextlib.suppress(EOFError):
                self.protocol.receive_eof()
        self._finish()
        if self.previous is not None:
            # aiohttp accepted this socket: let it forget the connection too.
            self.previous.connection_lost(exc)

    def _process(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                self._frame(event)
        self._flush()

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._opcode, self._parts = frame.opcode, [bytes(frame.data)]
        elif frame.opcode is Opcode.CONT:
            self._parts.append(bytes(frame.data))
        else:
            return  # ping (answered by the protocol), pong, close
        if not frame.fin:
            return
        payload, opcode = b"".join(self._parts), self._opcode
        self._parts, self._opcode = [], None
        if opcode is Opcode.BINARY:
            self.close(errors.CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported")
            return
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self.close(errors.CLOSE_INVALID_DATA, "Invalid UTF-8 in text frame")
            return
        if self.protocol.state is State.OPEN:
            self.on_message(text)

    # -- writing ----------------------------------------------------------------------------

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    @property
    def open(self) -> bool:
        return self.protocol.state is State.OPEN and not self.closed.is_set()

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def send(self, data: bytes, *, text: bool = True) -> None:
        """Queue one message; raises :class:`SendQueueFull` rather than wait for the client."""
        if not self.open:
            raise ConnectionResetError("connection closed")
        if self._queued_bytes + len(data) > self.send_queue_bytes:
            raise SendQueueFull(
                f"{self._queued_bytes} bytes already queued for a client that is not reading"
            )
        if not self._queue and self._writable.is_set():
            # Nothing waiting and the socket takes data: written now, in order, without waking
            # the writer task (a task switch per reply, a measurable share of a MOCK message).
            self._send_frames(text, data)
            self._flush()
            return
        self._queue.append((text, data))
        self._queued_bytes += len(data)
        self._wakeup.set()

    async def _write_queue(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue and self.open:
                await self._writable.wait()
                if not self.open:
                    break
                text, data = self._queue.popleft()
                self._queued_bytes -= len(data)
                self._send_frames(text, data)
                self._flush()
            if self.closed.is_set():
                return

    def _send_frames(self, text: bool, data: bytes) -> None:
        parts = fragments(data, self.frame_limit)
        if text:
            self.protocol.send_text(parts[0], fin=len(parts) == 1)
        else:
            self.protocol.send_binary(parts[0], fin=len(parts) == 1)
        for index, part in enumerate(parts[1:], start=2):
            self.protocol.send_continuation(part, fin=index == len(parts))

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            else:
                # websockets' end of stream: the close handshake is over (or failed).
                self.transport.close()
        if self.protocol.close_sent is not None and self.close_sent is None:
            sent = self.protocol.close_sent
            self.close_sent = (sent.code, sent.reason)

    # -- closing ----------------------------------------------------------------------------

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; drop the socket if the client does not answer in time.

        A client that is not reading (its socket is full) would never see the close frame, so
        it is dropped at once.
        """
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self._flush()
        if self.closed.is_set() or self._abort_handle is not None:
            return
        if not self._writable.is_set():
            self.transport.abort()
            return
        loop = asyncio.get_running_loop()
        self._abort_handle = loop.call_later(limits.CLOSE_TIMEOUT_S, self.transport.abort)

    def _finish(self) -> None:
        if self._abort_handle is not None:
            self._abort_handle.cancel()
        self._queue.clear()
        self._queued_bytes = 0
        self._writable.set()
        self._wakeup.set()
        self.closed.set()

    def disconnect_status(self) -> tuple[int, str]:
        """What ``$disconnect`` reports: the close frame received, else the one sent, else
        ``CLOSE_ABNORMAL``."""
        received = self.protocol.close_rcvd
        if received is not None:
            return received.code, received.reason
        if self.close_sent is not None:
            return self.close_sent
        return errors.CLOSE_ABNORMAL, ""

    async def wait_closed(self) -> None:
        await self.closed.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    def pause_reading(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.transport.resume_reading()
