"""Hostile input through the real stack (``wsgate local``: gateway, Sanic service, moto).

The catalogue (``tests/gateway/hostile.py``) gives each bad input its expected answer, per
AWS's documentation (cited there) and RFC 6455. The fuzz sends seeded hostile frames, 10,000 in
``make test`` and ``FUZZ_FRAMES`` (100,000 in ``make fuzz``), from several connections at once.
Pass criteria for both: no connection dropped without a close frame (1006), no traceback in the
gateway's log, no ``Internal server error`` (a 5xx caused by input), the store unchanged except
by valid requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.gateway import hostile, rawws
from tests.local.conftest import RunningStack, start_local, stop_local

FUZZ_FRAMES = int(os.environ.get("FUZZ_FRAMES", "10000"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261125"))
FUZZ_CONNECTIONS = 8
FUZZ_WINDOW = 64
FUZZ_BUDGET_S = float(os.environ.get("FUZZ_BUDGET_S", str(max(60.0, FUZZ_FRAMES / 100))))
REPLY_WAIT_S = 5.0
CHUNK_CHARS = 7_000
"""Characters per frame when a case is sent fragmented: at most 28 KB even at 4 bytes each."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_local(
        tmp_path_factory.mktemp("hostile"),
        "--seed-users=alice,bob,mallory",
        # The tutorial's usage plan (burst 10, 500 a month) would throttle the catalogue.
        "--param=UsagePlanBurstLimit=10000",
        "--param=UsagePlanRateLimit=10000",
        "--param=UsagePlanQuotaLimit=1000000",
    )
    try:
        yield running
    finally:
        stop_local(running)


def _auth(stack: RunningStack, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(user)}"}


def _scan(stack: RunningStack) -> list[dict[str, Any]]:
    items = stack.table().scan()["Items"]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def _no_tracebacks(stack: RunningStack) -> None:
    for name in ("gateway", "service"):
        log = stack.log(name)
        assert "Traceback" not in log, log[log.index("Traceback") - 2000 :][:6000]


def _kind(text: str | bytes) -> str:
    try:
        frame = json.loads(text)
    except ValueError:
        return f"not-json:{text[:80]!r}"
    if not isinstance(frame, dict):
        return "other"
    if frame.get("type") == "help":
        return hostile.HELP
    if frame.get("message") == "Invalid request body":
        return hostile.INVALID
    if frame.get("message") in hostile.GATEWAY_ERRORS:
        return f"gateway-error:{frame['message']}"
    return hostile.SERVED


async def _answer(client: ClientConnection) -> str:
    try:
        return _kind(await asyncio.wait_for(client.recv(), REPLY_WAIT_S))
    except TimeoutError:
        return "no answer"


async def _send(client: ClientConnection, text: str) -> None:
    if len(text.encode()) <= 30_000:
        await client.send(text)
    else:
        await client.send([text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)])


async def test_message_catalogue_gets_aws_answers(stack: RunningStack) -> None:
    url = stack.facts["websocketUrl"]
    wrong: list[str] = []
    async with connect(url, additional_headers=_auth(stack, "mallory"), max_size=None) as client:
        before = _scan(stack)
        for case in hostile.message_cases():
            await _send(client, case.text)
            answer = await _answer(client)
            if answer != case.expect:
                wrong.append(f"{case.name}: expected {case.expect}, got {answer}")
        assert _scan(stack) == before, "an invalid request changed the store"
        for case in hostile.valid_cases():
            await _send(client, case.text)
            answer = await _answer(client)
            if answer != case.expect:
                wrong.append(f"{case.name}: expected {case.expect}, got {answer}")
        changed = [item for item in _scan(stack) if item not in before]
        assert all(item.get("room") == "hostile_room" for item in changed), changed
    assert client.close_code == 1000  # closed by us, never dropped
    assert not wrong, "\n".join(wrong)
    assert len(hostile.message_cases()) + len(hostile.valid_cases()) >= 60
    _no_tracebacks(stack)


async def test_frame_catalogue_closes_with_rfc_codes(stack: RunningStack) -> None:
    url = stack.facts["websocketUrl"]
    auth = {k: v.encode() for k, v in _auth(stack, "bob").items()}
    wrong: list[str] = []
    for case in hostile.frame_cases():
        raw = await rawws.connect_raw(url, auth)
        await raw.send(case.data)
        code = await raw.close_code()
        await raw.aclose()
        if code != case.close_code:
            wrong.append(f"{case.name}: expected {case.close_code}, got {code}")
    assert not wrong, "\n".join(wrong)
    _no_tracebacks(stack)


async def test_handshake_catalogue_gets_aws_statuses(stack: RunningStack) -> None:
    url = stack.facts["websocketUrl"]
    parts = urlsplit(url)
    token = [f"Authorization: Bearer {stack.token('alice')}".encode()]
    wrong: list[str] = []
    for case in hostile.handshake_cases(parts.path, parts.netloc, token):
        reply = await rawws.handshake(url, case.request)
        if reply.status != case.status:
            wrong.append(f"{case.name}: expected {case.status}, got {reply.status} {reply.body!r}")
        assert b"s3cr3t" not in reply.head + reply.body, case.name
    assert not wrong, "\n".join(wrong)
    assert "s3cr3t" not in stack.log("gateway")
    _no_tracebacks(stack)


@dataclass
class FuzzClient:
    """One fuzzing connection: what it sent, what came back."""

    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)

    @property
    def received(self) -> int:
        return sum(self.answers.values())


async def _fuzz_one(client: ClientConnection, frames: list[str]) -> FuzzClient:
    """Send ``frames`` keeping at most ``FUZZ_WINDOW`` unanswered (each gets one answer), as a
    client that waits for replies does; a flood without a window only measures TCP
    back-pressure, which also holds back the client's own keepalive pings."""
    record = FuzzClient()
    window = asyncio.Semaphore(FUZZ_WINDOW)

    async def read() -> None:
        async for message in client:
            record.answers[_kind(message)] += 1
            window.release()
            if record.received >= len(frames):
                return

    reader = asyncio.create_task(read())
    for text in frames:
        await asyncio.wait_for(window.acquire(), REPLY_WAIT_S * 4)
        await client.send(text)
        record.sent += 1
    await asyncio.wait_for(reader, FUZZ_BUDGET_S)
    return record


@pytest.mark.timeout(FUZZ_BUDGET_S + 300)
async def test_fuzz_frames_never_break_the_gateway(stack: RunningStack) -> None:
    frames = hostile.fuzz_frames(FUZZ_SEED, FUZZ_FRAMES)
    url = stack.facts["websocketUrl"]
    shares = [frames[i::FUZZ_CONNECTIONS] for i in range(FUZZ_CONNECTIONS)]
    users = ["alice", "bob", "mallory"]
    async with contextlib.AsyncExitStack() as opened:
        clients = [
            await opened.enter_async_context(
                connect(url, additional_headers=_auth(stack, users[i % len(users)]), max_size=None)
            )
            for i in range(FUZZ_CONNECTIONS)
        ]
        before = _scan(stack)
        started = time.monotonic()
        records = await asyncio.gather(
            *(_fuzz_one(client, share) for client, share in zip(clients, shares, strict=True))
        )
        elapsed = time.monotonic() - started
        after = _scan(stack)
    # 1000: closed by this test; 1006 would be a connection the gateway dropped.
    assert [c.close_code for c in clients] == [1000] * FUZZ_CONNECTIONS
    answers = sum((r.answers for r in records), Counter[str]())
    print(f"fuzz: {FUZZ_FRAMES} frames in {elapsed:.1f} s, answers {dict(answers)}")
    assert sum(r.sent for r in records) == FUZZ_FRAMES
    assert sum(r.received for r in records) == FUZZ_FRAMES, answers  # one answer per frame
    assert set(answers) <= {hostile.HELP, hostile.INVALID}, answers
    assert after == before, "a hostile frame changed the store"
    _no_tracebacks(stack)
