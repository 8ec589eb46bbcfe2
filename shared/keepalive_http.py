"""A lean HTTP/1.1 keep-alive client for one host: the push fast path's transport.

Why not aiohttp: its request machinery (request and response objects, header multidicts,
timers, payload writers, connector bookkeeping) cost about 0.15 ms of CPU per request here,
more than the whole per-push budget (docs/performance.md, "Capacity"). Here a request is
bytes written in one ``transport.write`` on an ``asyncio.Protocol``, and the answer is parsed by
``httptools`` (the C parser Sanic serves with) as it arrives, however the reads split it.

The retry rule, because ``PostToConnection`` is not idempotent (a second POST is a second
frame on the client's screen):

- :class:`NotSent`: nothing of the request can have reached the server: the connect failed,
  or the connection was found closed (the peer's FIN or RST seen, or the write itself failed)
  before or at the write, with no byte of an answer. On a reused connection the request is
  sent once more on a fresh connection (a server closing idle keep-alive connections, as
  API Gateway does); on a fresh one it is raised, and the caller may send it another way.
- :class:`MaybeSent`: the request was written and no complete answer came (timeout, the
  connection closed after the write or mid-answer, an answer that does not parse). The server
  may have acted on it, so it is never sent again: the caller reports it failed.

Connections idle longer than ``max_idle_s`` are closed instead of reused, so a server idle
timeout longer than that never races a write.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools
from botocore.httpsession import get_cert_path


class HttpClientError(Exception):
    """A request that got no answer; see the module's retry rule."""


class NotSent(HttpClientError):
    """Nothing of the request can have been processed: safe to send again."""


class MaybeSent(HttpClientError):
    """The request went out and no complete answer came: sending again could act twice."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    keep_alive: bool
    headers: dict[str, str]
    """Lower-cased names; empty unless the client keeps headers (``keep_headers``)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._body: list[bytes] = []
        self._headers: dict[str, str] = {}
        self._answered = False
        self.closed = False
        self.idle_since = time.monotonic()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing asked: a server's parting words; do not reuse
            self.close()
            return
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(MaybeSent(f"unreadable HTTP answer: {error}"))
            self.close()

    def eof_received(self) -> bool:
        self.closed = True
        return False  # close the transport: HTTP/1.1 has no half-open use

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answered:
            self._fail(MaybeSent("the connection closed in the middle of the answer"))
        else:
            self._fail(MaybeSent("the connection closed after the request, before any answer"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self._body.clear()
            return
        waiter = self._waiter
        if waiter is None or waiter.done():  # a second answer to one request: broken peer
            self.close()
            return
        keep_alive = self._parser.should_keep_alive() and not self.closed
        waiter.set_result(Response(status, b"".join(self._body), keep_alive, self._headers))
        self._reset()

    # the client's side
    def send(self, data: bytes) -> asyncio.Future[Response]:
        """Write the request in one write; the future resolves with the answer."""
        transport = self._transport
        if transport is None or self.closed or transport.is_closing():
            raise NotSent("the connection was closed by the peer before the write")
        self._waiter = waiter = self._loop.create_future()
        transport.write(data)
        if transport.is_closing():  # the write itself failed (EPIPE, ECONNRESET)
            self._reset()
            raise NotSent("the connection was found closed at the write")
        self._timer = self._loop.call_later(self._read_timeout, self._timed_out)
        return waiter

    def _timed_out(self) -> None:
        self._fail(MaybeSent(f"no complete answer within {self._read_timeout:g} s"))
        self.close()

    def _fail(self, error: HttpClientError) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self._reset()

    def _reset(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._waiter = None
        self._body = []
        self._headers = {}
        self._answered = False
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class _HeaderKeepingConnection(_Connection):
    """Keeps the answer's headers too (a callback per header: only for callers that read
    them, such as botocore's error parser and retry checks)."""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")


@dataclass(frozen=True)
class Origin:
    """Where requests go: host and port, and TLS (with the name to verify) or not."""

    host: str
    port: int
    ssl: ssl.SSLContext | None = None


def origin_of(url: str, tls: ssl.SSLContext | None = None) -> Origin:
    """Host, port and TLS of a URL; https verifies with botocore's CA bundle (what the
    botocore client would trust) unless a context is given (tests with their own CA)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    secure = parts.scheme == "https"
    if secure and tls is None:
        tls = ssl.create_default_context(cafile=get_cert_path(True))
    port = parts.port or (443 if secure else 80)
    return Origin(parts.hostname, port, tls if secure else None)


class KeepAliveClient:
    """At most ``limit`` connections to one origin, each reused for request after request."""

    def __init__(
        self,
        origin: Origin,
        *,
        limit: int,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_idle_s: float = 20.0,
        keep_headers: bool = False,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._origin = origin
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle_s = max_idle_s
        self._protocol = _HeaderKeepingConnection if keep_headers else _Connection
        self.connections_opened = 0
        """How many TCP connections this client has opened: the keep-alive tests read it."""

    async def request(self, data: bytes) -> Response:
        """Send one complete request (head and body); see the module's retry rule."""
        async with self._slots:  # in use + idle never exceed ``limit``: only users open
            connection, reused = await self._take()
            try:
                try:
                    answer = await connection.send(data)
                except NotSent:
                    connection.close()
                    if not reused:
                        raise
                    connection = await self._connect()
                    answer = await connection.send(data)
            except BaseException:
                connection.close()
                raise
            if answer.keep_alive and not connection.closed:
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    async def _take(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely closed
            if not connection.closed and now - connection.idle_since < self._max_idle_s:
                return connection, True
            connection.close()
        return await self._connect(), False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        origin = self._origin
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: self._protocol(loop, self._read_timeout),
                    origin.host,
                    origin.port,
                    ssl=origin.ssl,
                ),
                self._connect_timeout,
            )
        except (OSError, TimeoutError) as error:  # ssl.SSLError is an OSError
            raise NotSent(f"cannot connect to {origin.host}:{origin.port}: {error}") from error
        self.connections_opened += 1
        return connection

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
