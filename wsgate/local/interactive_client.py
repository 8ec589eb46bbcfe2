"""``wsgate connect``: chat with the running local stack from a terminal.

It finds the stack through ``wsgate.local.state`` (its ``local.json``), asks the
stack's ``/dev/token`` for a token, and connects as a browser would, plus the ``x-api-key``
header so it also works with ``--api-key-source header``. Lines become frames by pure functions
(``line_to_frame``, ``describe``); the terminal and the socket are the only I/O.

Shortcuts come from the route table, so a new route gets one without touching this module:
``/<route key> value`` fills the route's only field, and ``/join`` is short for ``/joinroom``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from shared.frames import help_actions
from wsgate.local.state import StackStateError
from wsgate.local.state import find_stack as find_running

ALIASES = {"join": "joinroom", "send": "sendmessage"}
PLAIN_TEXT_ACTION = ("sendmessage", "message")
"""Plain lines are chat messages: ``{"action": "sendmessage", "message": line}``."""


class ClientError(Exception):
    """Something the user can fix (stack not running, bad line...), said in one sentence."""


@dataclass(frozen=True)
class StackAddress:
    """What the client needs from ``local.json``."""

    websocket_url: str
    console_url: str
    api_key: str
    state_dir: Path
    """The stack's own directory (the command history is kept there)."""


def find_stack(state_dir: Path | None = None, name: str | None = None) -> StackAddress:
    """The running local stack (``wsgate.local.state.find_stack``), or how to start one."""
    try:
        stack = find_running(name, state_dir)
        return StackAddress(stack.websocket_url, stack.console_url, stack.api_key, stack.path)
    except StackStateError as error:
        raise ClientError(str(error)) from None
    except KeyError as error:
        raise ClientError(f"the stack's facts have no {error}: restart `wsgate local`") from None


def mint_token(console_url: str, user: str, timeout_s: float = 10.0) -> str:
    """A development token for ``user`` from the running stack's ``/dev/token``."""
    url = urllib.parse.urljoin(console_url, "dev/token?" + urllib.parse.urlencode({"user": user}))
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return str(json.loads(reply.read())["token"])
    except urllib.error.HTTPError as error:
        message = json.loads(error.read() or b"{}").get("message", error.reason)
        raise ClientError(f"the stack refused a token for {user!r}: {message}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ClientError(
            f"the local stack's console at {console_url} is not answering ({error}); "
            "is `wsgate local` still running?"
        ) from None


def shortcuts() -> dict[str, tuple[str, str]]:
    """``/name`` -> (action, field) for every custom route with exactly one field."""
    table = {key: (key, fields[0]) for key, fields in help_actions().items() if len(fields) == 1}
    table |= {alias: table[key] for alias, key in ALIASES.items() if key in table}
    return table


def usage() -> str:
    names = ", ".join(f"/{name} <{field}>" for name, (_, field) in sorted(shortcuts().items()))
    return f"type a message, a JSON frame, or one of: {names}, /help, /quit"


def line_to_frame(line: str) -> str | None:
    """The frame to send for one typed line (None: nothing to send); ``ClientError`` if bad."""
    text = line.strip()
    if not text:
        return None
    if text.startswith(("{", "[")):
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise ClientError(
                f"not valid JSON ({error}); plain text is sent as a message"
            ) from None
        return text
    if text.startswith("/"):
        name, _, argument = text[1:].partition(" ")
        table = shortcuts()
        if name not in table:
            raise ClientError(f"unknown command /{name}: {usage()}")
        action, field = table[name]
        if not argument.strip():
            raise ClientError(f"/{name} needs a {field}")
        return json.dumps({"action": action, field: argument.strip()})
    action, field = PLAIN_TEXT_ACTION
    return json.dumps({"action": action, field: line})


def _clock(epoch_ms: int | None = None) -> str:
    moment = datetime.now() if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000)
    return moment.strftime("%H:%M:%S")


def describe(data: str) -> str:
    """One received frame as a readable line (unknown shapes as indented JSON)."""
    try:
        frame: Any = json.loads(data)
    except json.JSONDecodeError:
        return f"[{_clock()}] {data}"
    if not isinstance(frame, dict):
        return f"[{_clock()}] {json.dumps(frame)}"
    kind = frame.get("type")
    if kind in ("message", "broadcast"):
        return f"[{_clock(frame.get('sentAt'))}] #{frame.get('room')} {frame.get('from')}: " + str(
            frame.get("message")
        )
    if kind == "joined":
        return f"[{_clock()}] * {frame.get('user')} joined {frame.get('room')}"
    if kind in ("error", "help"):
        return f"[{_clock()}] ! {frame.get('message')}"
    if "message" in frame and "requestId" in frame:  # API Gateway's own error frames
        return f"[{_clock()}] ! {frame['message']} (request id {frame['requestId']})"
    return f"[{_clock()}] " + json.dumps(frame, indent=2, ensure_ascii=False)


Printer = Callable[[str], None]


def read_typed_lines(
    loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], prompt: str
) -> None:
    """Feed lines typed at a terminal (readline: editing, history) to ``queue``; None at EOF.

    ``input()`` blocks, so it runs on a daemon thread; the command leaves with ``os._exit``
    so a thread still waiting in ``input()`` never holds up the exit after Ctrl+C.
    """

    def run() -> None:
        while True:
            try:
                line: str | None = input(prompt)
            except (EOFError, KeyboardInterrupt):
                line = None
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=run, name="wsgate-connect-input", daemon=True).start()


async def read_piped_lines(stream: TextIO, queue: asyncio.Queue[str | None]) -> None:
    """Feed piped lines to ``queue`` without a thread (the event loop reads the pipe)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), stream
    )
    try:
        while raw := await reader.readline():
            await queue.put(raw.decode(errors="replace").rstrip("\r\n"))
    finally:
        transport.close()
        await queue.put(None)


async def _receive(socket: ClientConnection, show: Printer, received: asyncio.Event) -> None:
    async for data in socket:
        show(describe(data if isinstance(data, str) else data.decode(errors="replace")))
        received.set()


async def _send_lines(
    socket: ClientConnection, lines: asyncio.Queue[str | None], show: Printer
) -> None:
    while (line := await lines.get()) is not None:
        if line.strip() == "/quit":
            return
        if line.strip() == "/help":
            show(usage())
            continue
        try:
            frame = line_to_frame(line)
        except ClientError as error:
            show(f"! {error}")
            continue
        if frame is not None:
            await socket.send(frame)


async def _drain(received: asyncio.Event, quiet_s: float) -> None:
    """After the input ends, keep printing until nothing arrived for ``quiet_s``."""
    while True:
        received.clear()
        try:
            await asyncio.wait_for(received.wait(), quiet_s)
        except TimeoutError:
            return


async def chat(
    address: StackAddress,
    token: str,
    lines: asyncio.Queue[str | None],
    show: Printer,
    quiet_s: float = 1.0,
) -> int:
    """Connect, send lines until input ends, print frames; the exit status of the command."""
    url = f"{address.websocket_url}?{urllib.parse.urlencode({'token': token})}"
    headers = {"x-api-key": address.api_key}
    try:
        socket = await connect(url, additional_headers=headers, open_timeout=15)
    except InvalidStatus as error:
        body = error.response.body.decode(errors="replace") if error.response.body else ""
        raise ClientError(
            f"the gateway refused the connection: {error.response.status_code} {body}"
        ) from None
    except OSError as error:
        raise ClientError(f"cannot reach {address.websocket_url}: {error}") from None
    show(f"connected to {address.websocket_url}; {usage()}")
    received = asyncio.Event()
    receiver = asyncio.create_task(_receive(socket, show, received))
    sender = asyncio.create_task(_send_lines(socket, lines, show))
    try:
        done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        if receiver in done:
            code, reason = socket.close_code, socket.close_reason
            show(f"connection closed by the gateway ({code} {reason})".rstrip())
            return 1
        await asyncio.wait(
            {receiver, asyncio.create_task(_drain(received, quiet_s))},
            return_when=asyncio.FIRST_COMPLETED,
        )
        return 0
    finally:
        sender.cancel()
        await socket.close(1000, "bye")
        receiver.cancel()
        for task in (receiver, sender):
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
