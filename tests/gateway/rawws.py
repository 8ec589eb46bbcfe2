"""A WebSocket client that can misbehave: a manual handshake on a raw socket, then any bytes.

Well-behaved clients (``websockets``) refuse to send unmasked frames, bad opcodes or reserved
bits; the gateway must still answer them as RFC 6455 says. Frames are built with ``websockets``'
own ``Frame`` where they are valid, by hand only where the point is that they are not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

READ_TIMEOUT_S = 10.0


@dataclass
class HandshakeReply:
    status: int
    head: bytes
    body: bytes


@dataclass
class RawSocket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int
    head: bytes
    _parser: StreamReader = field(default_factory=StreamReader)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def frames_until_close(self) -> list[Frame]:
        """Every frame the server sends until it closes the TCP connection."""
        frames: list[Frame] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            # A server that closes with our unread bytes in its buffer ends with a TCP reset
            # instead of a FIN (Linux does that); what arrived before it still counts.
            with contextlib.suppress(ConnectionResetError):
                while chunk := await self.reader.read(65536):
                    self._parser.feed_data(chunk)
            self._parser.feed_eof()
        parse = Frame.parse(self._parser.read_exact, mask=False)
        while True:
            try:
                next(parse)
            except StopIteration as done:
                frames.append(done.value)
                parse = Frame.parse(self._parser.read_exact, mask=False)
            except EOFError:
                return frames

    async def close_code(self) -> int | None:
        """The code of the server's close frame, or None when it dropped the connection."""
        closes = [f for f in await self.frames_until_close() if f.opcode is Opcode.CLOSE]
        return Close.parse(closes[0].data).code if closes else None

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def handshake_bytes(
    url: str, headers: dict[str, bytes] | None = None, key: bytes | None = None
) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"GET {parts.path or '/'} HTTP/1.1".encode(),
        f"Host: {parts.netloc}".encode(),
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + (key if key is not None else base64.b64encode(os.urandom(16))),
        b"Sec-WebSocket-Version: 13",
    ]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port, limit=1 << 20)


async def handshake(url: str, request: bytes) -> HandshakeReply:
    """Send ``request`` as is; read the reply's status line, head and (for refusals) body."""
    reader, writer = await _open(url)
    try:
        writer.write(request)
        async with asyncio.timeout(READ_TIMEOUT_S):
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
    finally:
        writer.close()
    return HandshakeReply(status, head, body)


async def connect_raw(url: str, headers: dict[str, bytes] | None = None) -> RawSocket:
    reader, writer = await _open(url)
    writer.write(handshake_bytes(url, headers))
    async with asyncio.timeout(READ_TIMEOUT_S):
        head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert status == 101, head
    return RawSocket(reader, writer, status, head)


def frame(opcode: Opcode, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """A valid frame (masked, as clients must) or an unmasked one."""
    return Frame(opcode, payload, fin=fin).serialize(mask=mask)


def raw_frame(first_byte: int, payload: bytes, *, mask: bool = True) -> bytes:
    """Any first byte (FIN, RSV1-3, opcode), including ones no library would write."""
    mask_bit = 0x80 if mask else 0
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first_byte, mask_bit | length)
    elif length < 65536:
        head = struct.pack("!BBH", first_byte, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first_byte, mask_bit | 127, length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
