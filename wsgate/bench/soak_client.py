"""One soak load process: ``python -m wsgate.bench.soak_client`` (spec as JSON on stdin).

It opens ``clients`` connections, puts them in rooms of ``room_size`` (rooms never span load
processes, so each process can tell on its own who should have received what), prints
``READY``, then chats and pings until ``STOP``. Lines ``PHASE <name>`` on stdin name the stretch
of the run that follows; each is acknowledged with ``PHASE-OK <name>`` once it applies. The
result is one JSON line: the :class:`~wsgate.bench.soak_ledger.Ledger` report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from wsgate.bench.soak_ledger import Ledger
from wsgate.fd_limit import raise_fd_limit

MESSAGE_PREFIX = "soak "


@dataclass
class Member:
    index: int
    room: str
    socket: ClientConnection
    last_send: float | None = None
    last_phase: str = "steady"
    """The phase of the member's latest message. An error frame is booked there: it answers
    that message, or an earlier one of the same member still in flight."""
    dropped: bool = False


@dataclass
class Run:
    spec: dict[str, Any]
    ledger: Ledger = field(default_factory=Ledger)
    phase: str = "connect"
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def tag(self) -> str:
        return str(self.spec.get("tag", "p0"))


async def _open(run: Run) -> list[Member]:
    spec = run.spec
    semaphore = asyncio.Semaphore(spec.get("connect_parallel", 50))
    size = spec["room_size"]

    async def one(index: int) -> Member:
        async with semaphore:
            socket = await connect(
                spec["url"],
                additional_headers=spec.get("headers", {}),
                open_timeout=120,
                ping_interval=None,  # pings are the soak's own, timed
                max_queue=None,
            )
            room = f"soak-{run.tag}-{index // size}"
            await socket.send(json.dumps({"action": "joinroom", "roomname": room}))
            async with asyncio.timeout(120):
                while True:
                    frame = json.loads(await socket.recv())
                    if frame.get("type") == "joined" and frame.get("room") == room:
                        break
            return Member(index, room, socket)

    members = await asyncio.gather(*(one(i) for i in range(spec["clients"])))
    for member in members:
        run.ledger.room_sizes[member.room] = run.ledger.room_sizes.get(member.room, 0) + 1
    return list(members)


async def _read(run: Run, member: Member) -> None:
    """Every frame a member receives: chat messages, error frames, the close."""
    try:
        while True:
            raw = await member.socket.recv()
            now = time.monotonic()
            frame = json.loads(raw)
            text = str(frame.get("message", ""))
            if frame.get("type") == "message" and text.startswith(MESSAGE_PREFIX):
                run.ledger.on_message(text.removeprefix(MESSAGE_PREFIX), member.index, now)
            elif frame.get("type") != "joined":
                waited = now - member.last_send if member.last_send is not None else None
                run.ledger.on_error(member.last_phase, text or str(raw)[:80], waited)
    except ConnectionClosed as closed:
        if not run.stopping.is_set():
            member.dropped = True
            code = closed.rcvd.code if closed.rcvd else "no close frame"
            run.ledger.on_close(run.phase, str(code))


async def _chat(run: Run, member: Member) -> None:
    interval = run.spec["send_interval_s"]
    await asyncio.sleep(random.uniform(0, interval))
    seq = 0
    while not run.stopping.is_set():
        message_id = f"{run.tag}-{member.index}-{seq}"
        seq += 1
        now = time.monotonic()
        run.ledger.on_send(message_id, run.phase, member.room, now)
        member.last_send, member.last_phase = now, run.phase
        payload = {"action": "sendmessage", "message": MESSAGE_PREFIX + message_id}
        try:
            await member.socket.send(json.dumps(payload))
        except ConnectionClosed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.stopping.wait(), interval)


async def _ping(run: Run, member: Member) -> None:
    interval = run.spec["ping_interval_s"]
    timeout = run.spec.get("ping_timeout_s", 60.0)
    await asyncio.sleep(random.uniform(0, interval))
    while not run.stopping.is_set():
        phase, started = run.phase, time.monotonic()
        try:
            waiter = await member.socket.ping()
            await asyncio.wait_for(waiter, timeout)
            run.ledger.on_pong(phase, time.monotonic() - started)
        except TimeoutError:
            run.ledger.on_pong(phase, None)
        except ConnectionClosed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.stopping.wait(), max(0.0, interval - 0.001))


async def _commands(run: Run) -> None:
    """``PHASE <name>`` switches the phase; ``STOP`` ends the chat."""
    while True:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if not line or line == "STOP":
            run.stopping.set()
            return
        if line.startswith("PHASE "):
            run.phase = line.removeprefix("PHASE ")
            print(f"PHASE-OK {run.phase}", flush=True)


async def soak(spec: dict[str, Any]) -> dict[str, Any]:
    run = Run(spec)
    members = await _open(run)
    run.phase = spec.get("phase", "steady")
    print("READY", flush=True)
    readers = [asyncio.create_task(_read(run, m)) for m in members]
    workers = [asyncio.create_task(job(run, m)) for m in members for job in (_chat, _ping)]
    await _commands(run)
    await asyncio.gather(*workers)
    await asyncio.sleep(spec.get("drain_s", 5.0))  # deliveries still under way
    await asyncio.gather(*(m.socket.close() for m in members), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    connected = sum(not m.dropped for m in members)
    return {"clients": len(members), "connected_until_stop": connected, **run.ledger.report()}


def main() -> None:
    raise_fd_limit()
    spec = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(soak(spec))), flush=True)


if __name__ == "__main__":
    main()
