"""The gateway's event file and its reader: bounded, rotated, read incrementally, never lossy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from wsgate.gateway.event_file import EventFile, rotated_path
from wsgate.gateway.events import EventBus, EventKind, GatewayEvent
from wsgate.local.event_reader import EventFileReader, read_events


def test_published_events_reach_the_file_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    bus = EventBus()
    sink = EventFile(path)
    bus.add_sink(sink)
    bus.publish(EventKind.CONNECT, "c1", user="alice", status=101)
    bus.publish(EventKind.DISCONNECT, "c1", code=1000, reason="")
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["kind"], e["connectionId"], e["seq"]) for e in lines] == [
        ("connect", "c1", 1),
        ("disconnect", "c1", 2),
    ]
    assert lines[0]["user"] == "alice"


def test_inside_the_loop_writes_are_buffered_then_flushed_shortly(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"

    async def run() -> tuple[int, int]:
        sink = EventFile(path, flush_delay_s=0.05)
        bus = EventBus()
        bus.add_sink(sink)
        for n in range(100):
            bus.publish(EventKind.ROUTE, f"c{n}", route="sendmessage")
        before = len(path.read_bytes())
        await asyncio.sleep(0.5)
        after = len(path.read_text().splitlines())
        sink.close()
        return before, after

    before, after = asyncio.run(run())
    assert before == 0, "each publish wrote to the file instead of the buffer"
    assert after == 100


def test_the_file_is_rotated_at_its_size_and_readers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = EventFile(path, max_bytes=2_000)
    reader = EventFileReader(path)
    bus = EventBus()
    bus.add_sink(sink)
    seen: list[int] = []
    for n in range(200):
        bus.publish(EventKind.ROUTE, f"c{n}", route="sendmessage")
        if n % 7 == 0:
            sink.flush()
            seen += [e["seq"] for e in reader.poll()]
    sink.close()
    seen += [e["seq"] for e in reader.poll()]
    assert seen == list(range(1, 201))
    assert path.stat().st_size <= 2_000 and rotated_path(path).stat().st_size <= 2_000
    kept = [e["seq"] for e in read_events(path)]
    assert kept == sorted(kept) and kept[-1] == 200 and len(kept) < 200  # older ones dropped


def test_a_half_written_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"seq":1,"kind":"connect"}\n{"seq":2,')
    reader = EventFileReader(path)
    assert [e["seq"] for e in reader.poll()] == [1]
    with path.open("ab") as f:
        f.write(b'"kind":"route"}\nnot json\n')
    assert [e["seq"] for e in reader.poll()] == [2]
    reader.close()


def test_a_reader_started_before_the_file_exists_sees_it_appear(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    reader = EventFileReader(path)
    assert reader.poll() == []
    path.write_text('{"seq":1}\n')
    assert reader.poll() == [{"seq": 1}]
    reader.close()


def test_a_failing_sink_is_dropped_and_publishing_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    received: list[GatewayEvent] = []

    def broken(event: GatewayEvent) -> None:
        raise OSError("No space left on device")

    bus.add_sink(broken)
    bus.add_sink(received.append)
    first = bus.publish(EventKind.CONNECT, "c1")
    bus.publish(EventKind.DISCONNECT, "c1")
    assert first.seq == 1 and [e.seq for e in received] == [1, 2]
    assert "No space left on device" in caplog.text
    assert len(bus.recent()) == 2
