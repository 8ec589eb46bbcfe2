"""The soak's bookkeeping: which message reached which member, pongs, errors, per phase.

Pure data and arithmetic, so the numbers the soak reports can be unit-tested without sockets.
A *phase* is a stretch of the run the orchestrator names ("steady", "service-down", ...); a
message belongs to the phase it was sent in, a pong to the phase its ping was sent in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from wsgate.bench.stats import summarize

PONG_LIMIT_S = 1.0
"""A pong slower than this counts as a miss of the soak's "pongs under 1 s" target."""


@dataclass
class Sent:
    phase: str
    room: str
    at: float


@dataclass
class Ledger:
    """Everything one load process saw; :meth:`report` turns it into per-phase numbers."""

    room_sizes: dict[str, int] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    receivers: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    delivery_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    pongs_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ping_timeouts: Counter[str] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    error_wait_ms: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    closes: Counter[tuple[str, str]] = field(default_factory=Counter)
    unexpected: int = 0

    def on_send(self, message_id: str, phase: str, room: str, at: float) -> None:
        self.sent[message_id] = Sent(phase, room, at)

    def on_message(self, message_id: str, receiver: int, at: float) -> None:
        """A chat message arrived; duplicates (same receiver) count once."""
        sent = self.sent.get(message_id)
        if sent is None:
            self.unexpected += 1
            return
        if receiver in self.receivers[message_id]:
            return
        self.receivers[message_id].add(receiver)
        self.delivery_ms[sent.phase].append((at - sent.at) * 1000)

    def on_error(self, phase: str, text: str, waited_s: float | None) -> None:
        self.errors[(phase, text)] += 1
        if waited_s is not None:
            self.error_wait_ms[(phase, text)].append(waited_s * 1000)

    def on_pong(self, phase: str, latency_s: float | None) -> None:
        if latency_s is None:
            self.ping_timeouts[phase] += 1
        else:
            self.pongs_ms[phase].append(latency_s * 1000)

    def on_close(self, phase: str, code: str) -> None:
        self.closes[(phase, code)] += 1

    def report(self) -> dict[str, Any]:
        """Per phase: messages, deliveries expected/delivered/lost, pongs, errors, closes."""
        phases: dict[str, dict[str, Any]] = defaultdict(_empty_phase)
        for message_id, sent in self.sent.items():
            row = phases[sent.phase]
            expected = self.room_sizes[sent.room]
            got = len(self.receivers.get(message_id, ()))
            row["sent"] += 1
            row["expected"] += expected
            row["delivered"] += got
            row["lost"] += expected - got
        for phase, values in self.delivery_ms.items():
            phases[phase]["delivery_ms"] = _latency(values)
        for phase, values in self.pongs_ms.items():
            phases[phase]["pongs"] = len(values)
            phases[phase]["pong_ms"] = _latency(values)
            phases[phase]["pongs_over_1s"] = sum(v > PONG_LIMIT_S * 1000 for v in values)
        for phase, count in self.ping_timeouts.items():
            phases[phase]["ping_timeouts"] = count
        for (phase, text), count in self.errors.items():
            waits = self.error_wait_ms.get((phase, text), [])
            phases[phase]["errors"][text] = {"count": count, "after_ms": _latency(waits)}
        for (phase, code), count in self.closes.items():
            phases[phase]["closes"][code] = count
        return {"phases": dict(phases), "unexpected": self.unexpected}


def _empty_phase() -> dict[str, Any]:
    return {
        "sent": 0,
        "expected": 0,
        "delivered": 0,
        "lost": 0,
        "pongs": 0,
        "ping_timeouts": 0,
        "pongs_over_1s": 0,
        "errors": {},
        "closes": {},
    }


def _latency(values: list[float]) -> dict[str, float]:
    stats = summarize(values)
    return {k: round(stats[k], 1) for k in ("p50_ms", "p99_ms", "max_ms")} if values else {}


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Add the reports of several load processes (latencies: the worst of them)."""
    merged: dict[str, dict[str, Any]] = defaultdict(_empty_phase)
    for report in reports:
        for phase, row in report["phases"].items():
            into = merged[phase]
            for key in ("sent", "expected", "delivered", "lost", "pongs"):
                into[key] += row[key]
            into["ping_timeouts"] += row["ping_timeouts"]
            into["pongs_over_1s"] += row["pongs_over_1s"]
            for key in ("delivery_ms", "pong_ms"):
                if row.get(key):
                    into[key] = _worst(into.get(key, {}), row[key])
            for text, error in row["errors"].items():
                current = into["errors"].setdefault(text, {"count": 0, "after_ms": {}})
                current["count"] += error["count"]
                current["after_ms"] = _worst(current["after_ms"], error["after_ms"])
            for code, count in row["closes"].items():
                into["closes"][code] = into["closes"].get(code, 0) + count
    return {
        "phases": dict(merged),
        "unexpected": sum(r["unexpected"] for r in reports),
    }


def _worst(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: max(a.get(k, 0.0), b.get(k, 0.0)) for k in {*a, *b}}


def growth(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Relative growth of each metric (0.1 = 10 %); a metric missing after is skipped."""
    return {
        key: (after[key] - value) / value if value else 0.0
        for key, value in before.items()
        if key in after
    }
