"""An HTTP/1.1 server on 127.0.0.1 that misbehaves on cue, for the push client's edge cases.

Each request is parsed for real (``httptools``), recorded (path and body: the sink's count is
what proves exactly-once delivery), then answered by the next action of the script:

- ``ok``: 200, empty body, the connection kept alive;
- ``gone``: 410 ``GoneException`` as API Gateway answers for a closed connection;
- ``split``: 200 with a chunked body, written a few bytes at a time with pauses, so the client
  reads the answer in many pieces;
- ``ok_close``: 200 with ``Connection: close``, then the server closes the connection;
- ``drop``: the request is read and recorded, then the connection closes with no answer
  (the server may have acted on it: the client must not send it again);
- ``hang``: the request is read and recorded, and no answer ever comes.

``idle_close_s`` closes connections idle that long, as API Gateway closes idle keep-alive
connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field

import httptools

GONE = (
    b"HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\n"
    b"x-amzn-ErrorType: GoneException\r\nContent-Length: 19\r\n\r\n"
    b'{"message":"Gone"}\n'
)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
OK_CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
SPLIT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\n{}\r\n0\r\n\r\n"
)


class _Request:
    """httptools callbacks collecting one request at a time."""

    def __init__(self) -> None:
        self.url = b""
        self.body: list[bytes] = []
        self.complete: list[tuple[str, bytes]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete.append((self.url.decode(), b"".join(self.body)))
        self.url, self.body = b"", []


@dataclass
class ScriptedServer:
    script: list[str] = field(default_factory=list)
    """Actions for the requests in arrival order; ``ok`` once it runs out."""
    idle_close_s: float | None = None
    tls: ssl.SSLContext | None = None
    """Serve HTTPS with this context (the URL says https then)."""
    received: list[tuple[str, bytes]] = field(default_factory=list)
    connections: int = 0
    url: str = ""
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}/prod"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def count(self, path_end: str) -> int:
        return sum(1 for path, _ in self.received if path.endswith(path_end))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        request = _Request()
        parser = httptools.HttpRequestParser(request)
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(65536), self.idle_close_s)
                if not chunk:
                    return
                parser.feed_data(chunk)
                while request.complete:
                    self.received.append(request.complete.pop(0))
                    if not await self._act(writer):
                        return
        except (TimeoutError, ConnectionError, ssl.SSLError):
            return
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _act(self, writer: asyncio.StreamWriter) -> bool:
        """Answer per the script; False when the connection must end."""
        action = self.script.pop(0) if self.script else "ok"
        if action == "hang":
            await asyncio.Event().wait()
        if action == "drop":
            return False
        if action == "split":
            for start in range(0, len(SPLIT), 7):
                writer.write(SPLIT[start : start + 7])
                await writer.drain()
                await asyncio.sleep(0.005)
            return True
        writer.write({"gone": GONE, "ok_close": OK_CLOSE}.get(action, OK))
        await writer.drain()
        return action != "ok_close"
