"""The per-connection message pump: concurrency bound, order of start, read back-pressure."""

from __future__ import annotations

import asyncio

import pytest

from wsgate.gateway.pump import MessagePump


async def test_runs_at_most_the_bound_at_once_and_starts_in_order() -> None:
    running: list[str] = []
    started: list[str] = []
    peak = 0
    release = asyncio.Event()

    async def handle(message: str) -> None:
        nonlocal peak
        started.append(message)
        running.append(message)
        peak = max(peak, len(running))
        await release.wait()
        running.remove(message)

    pump = MessagePump(handle, lambda: None, lambda: None, concurrency=3)
    for i in range(10):
        pump.submit(str(i))
    await asyncio.sleep(0.05)
    assert started == ["0", "1", "2"]
    release.set()
    idle = asyncio.Event()
    pump.when_idle(idle.set)
    await asyncio.wait_for(idle.wait(), 5)
    assert peak == 3 and started == [str(i) for i in range(10)]


async def test_pauses_reading_past_the_backlog_and_resumes_below_half() -> None:
    events: list[str] = []
    release = asyncio.Event()

    async def handle(message: str) -> None:
        await release.wait()

    pump = MessagePump(
        handle,
        lambda: events.append("pause"),
        lambda: events.append("resume"),
        concurrency=1,
        backlog_chars=100,
    )
    for _ in range(9):
        pump.submit("x" * 10)
    assert events == []
    pump.submit("x" * 10)
    assert events == ["pause"]
    release.set()
    idle = asyncio.Event()
    pump.when_idle(idle.set)
    await asyncio.wait_for(idle.wait(), 5)
    assert events == ["pause", "resume"] and pump.backlog_chars == 0


async def test_a_failing_handler_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def handle(message: str) -> None:
        raise RuntimeError("bug")

    pump = MessagePump(handle, lambda: None, lambda: None)
    pump.submit("m")
    idle = asyncio.Event()
    await asyncio.sleep(0)
    pump.when_idle(idle.set)
    await asyncio.wait_for(idle.wait(), 5)
    assert "message handling failed" in caplog.text


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MessagePump(lambda m: asyncio.sleep(0), lambda: None, lambda: None, concurrency=0)
