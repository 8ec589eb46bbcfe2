"""``wsgate bench --capacity``: what one vCPU of the fleet serves, and what an ASG needs.

The service runs as on an instance (one Sanic worker, its own process), with DynamoDB (moto)
and ``@connections`` (a counting sink) each behind a delaying proxy process
(``wsgate.bench.delay_proxy``: 5 ms and 15 ms round trips by default, as from EC2). A driver
posts ``sendmessage`` integration requests exactly as API Gateway's request template writes
them, to senders in rooms of 1, 10, 100 and 1,000 members. The service's CPU is read from
``/proc`` before and after: CPU milliseconds per message, hence messages per second per vCPU,
and the slope between room sizes is the cost of one more member's push.

What it assumes: a vCPU here is worth a vCPU of the fleet's instances; API Gateway and
DynamoDB are managed (their CPU is not the fleet's); the fleet scales on CPU, so instances =
rate x CPU per message / (vCPUs per instance x target utilization).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import boto3

from shared import names
from shared.connections_table import DEFAULT_TABLE_NAME
from shared.integration_models import example_values
from wsgate.local.aws_resources import LOCAL_CREDENTIALS, AwsTarget, ensure_connections_table
from wsgate.local.processes import Supervisor, free_port, python_module

SECRET = "capacity-bench-caller-secret-0123456789"
REGION = "us-east-1"


@dataclass(frozen=True)
class CapacityPlan:
    room_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    store_rtt_ms: float = 5.0
    push_rtt_ms: float = 15.0
    in_flight: int = 32
    pushes_per_size: int = 6000
    """Messages per room size: enough pushes (messages x members) to read the CPU clearly."""
    min_messages: int = 20
    max_messages: int = 1500
    target_utilization: float = 0.5
    vcpus_per_instance: int = 2
    rates: tuple[int, ...] = (1_000, 10_000, 100_000)

    def messages(self, room: int) -> int:
        return max(self.min_messages, min(self.max_messages, self.pushes_per_size // room))

    @classmethod
    def smoke(cls) -> CapacityPlan:
        return cls(room_sizes=(1, 10), pushes_per_size=20, min_messages=5, max_messages=20)


def instances_needed(rate: float, cpu_ms_per_message: float, plan: CapacityPlan) -> int:
    """Instances at the target utilization for ``rate`` messages/s (at least one)."""
    busy_vcpus = rate * cpu_ms_per_message / 1000
    return max(1, math.ceil(busy_vcpus / (plan.vcpus_per_instance * plan.target_utilization)))


def per_member_ms(rows: dict[int, dict[str, Any]]) -> float | None:
    """CPU per additional member: the least-squares slope of CPU per message over room size."""
    points = [(room, float(row["cpu_ms_per_message"])) for room, row in rows.items()]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Fleet:
    """moto, the sink, two delaying proxies and the service: one instance's world."""

    def __init__(self, directory: Path, plan: CapacityPlan) -> None:
        self.supervisor = Supervisor(directory / "logs")
        self.plan = plan
        self.table = DEFAULT_TABLE_NAME
        self.ports = {name: free_port() for name in ("moto", "sink", "store", "push", "service")}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _start(self, name: str, module: str, args: list[str], ready: str, env: Any = None) -> int:
        child = self.supervisor.start(name, python_module(module, *args), env or {})
        self.supervisor.wait_ready(child, self.url(name) + ready)
        return child.process.pid

    def start(self) -> int:
        """Everything up; returns the service's pid."""
        port = {name: str(value) for name, value in self.ports.items()}
        self._start("moto", "wsgate.local.moto_process", ["--port", port["moto"]], "/moto-api/")
        # Through the delaying proxy the signed request arrives rewritten (another Host and
        # framing), so the sink only counts; signatures are checked by the push-client
        # scenarios and tests/gateway/test_sigv4.py.
        sink = ["--port", port["sink"], "--unsigned"]
        self._start("sink", "wsgate.bench.push_sink", sink, "/count")
        for name, upstream, delay in (
            ("store", self.url("moto"), self.plan.store_rtt_ms),
            ("push", self.url("sink"), self.plan.push_rtt_ms),
        ):
            argv = ["--port", port[name], "--upstream", upstream, "--delay-ms", str(delay)]
            self._start(name, "wsgate.bench.delay_proxy", argv, "/moto-api/")
        ensure_connections_table(AwsTarget(self.url("moto"), REGION), self.table)
        example = example_values()
        env = LOCAL_CREDENTIALS | {
            names.ENV_API_ID: example["apiId"],
            names.ENV_STAGE: example["stage"],
            names.ENV_REGION: REGION,
            names.ENV_TABLE_NAME: self.table,
            names.ENV_DYNAMODB_ENDPOINT: self.url("store"),
            names.ENV_CONNECTIONS_ENDPOINT: f"{self.url('push')}/{example['stage']}",
            names.ENV_INTEGRATION_SECRET: SECRET,
            names.ENV_LOG_LEVEL: "WARNING",
        }
        argv = ["--host", "127.0.0.1", "--port", port["service"], "--workers", "1"]
        return self._start("service", "ec2_service", argv, "/health", env)

    def seed_room(self, room: str, size: int) -> str:
        """``size`` connection records in ``room``, straight into moto; returns the sender."""
        table = boto3.resource(
            "dynamodb",
            region_name=REGION,
            endpoint_url=self.url("moto"),
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        ).Table(self.table)
        now = int(time.time())
        with table.batch_writer() as batch:
            for index in range(size):
                batch.put_item(
                    Item={
                        "connectionId": f"{room}-{index:05d}=",
                        "userId": f"user{index}",
                        "userName": f"User {index}",
                        "connectedAt": now * 1000,
                        "expiresAt": now + 7200,
                        "room": room,
                    }
                )
        return f"{room}-00000="

    def pushes(self) -> int:
        with urllib.request.urlopen(self.url("sink") + "/count", timeout=10) as answer:
            return int(json.loads(answer.read())["posts"])

    def stop(self) -> None:
        self.supervisor.stop()


async def _drive(url: str, sender: str, messages: int, in_flight: int) -> tuple[float, list[int]]:
    """Post ``messages`` sendmessage requests, ``in_flight`` at a time; seconds and statuses."""
    body = example_values() | {
        "connectionId": sender,
        "routeKey": "sendmessage",
        "userId": "user0",
        "payload": {"action": "sendmessage", "message": "capacity"},
    }
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", names.INTEGRATION_SECRET_HEADER: SECRET}
    statuses: list[int] = []
    semaphore = asyncio.Semaphore(in_flight)
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            async with semaphore, http.post(url + "/sendmessage", data=data, headers=headers) as r:
                reply = await r.read()  # the sender's own copy, as the route response
                statuses.append(r.status if b'"type":"message"' in reply else -r.status)

        await one()  # warm-up: credentials, first connections
        statuses.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(messages)))
        return time.perf_counter() - started, statuses


async def measure(plan: CapacityPlan, progress: Any = print) -> dict[str, Any]:
    rows: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as directory:
        fleet = _Fleet(Path(directory), plan)
        try:
            service_pid = await asyncio.to_thread(fleet.start)
            for room in plan.room_sizes:
                progress(f"capacity: room of {room}")
                sender = await asyncio.to_thread(fleet.seed_room, f"cap{room}", room)
                messages = plan.messages(room)
                pushes_before = await asyncio.to_thread(fleet.pushes)
                cpu_before = _cpu_s(service_pid)
                seconds, statuses = await _drive(
                    fleet.url("service"), sender, messages, plan.in_flight
                )
                cpu_ms = (_cpu_s(service_pid) - cpu_before) * 1000 / messages
                # The sender's own copy is its reply: room - 1 pushes per message (warm-up too).
                expected = (messages + 1) * (room - 1)
                pushed = await asyncio.to_thread(fleet.pushes) - pushes_before
                rows[room] = {
                    "messages": messages,
                    "msgs_per_s": messages / seconds,
                    "cpu_ms_per_message": cpu_ms,
                    "msgs_per_s_per_vcpu": 1000 / cpu_ms if cpu_ms else None,
                    "statuses": dict(Counter(statuses)),
                    "pushes_missing": expected - pushed,
                    "lost": sum(1 for s in statuses if s != 200) + expected - pushed,
                    "instances": {
                        str(rate): instances_needed(rate, cpu_ms, plan) for rate in plan.rates
                    },
                }
        finally:
            await asyncio.to_thread(fleet.stop)
    return {
        "plan": {
            "store_rtt_ms": plan.store_rtt_ms,
            "push_rtt_ms": plan.push_rtt_ms,
            "in_flight": plan.in_flight,
            "vcpus_per_instance": plan.vcpus_per_instance,
            "target_utilization": plan.target_utilization,
            "python": sys.version.split()[0],
        },
        "rooms": {str(room): row for room, row in rows.items()},
        "per_member_cpu_ms": per_member_ms(rows),
        "lost": sum(row["lost"] for row in rows.values()),
    }


def table(result: dict[str, Any]) -> str:
    plan = result["plan"]
    rates = next(iter(result["rooms"].values()))["instances"].keys() if result["rooms"] else []
    header = f"{'room':>6}{'CPU ms/msg':>12}{'msg/s/vCPU':>12}{'msg/s':>9}{'lost':>6}" + "".join(
        f"{'inst@' + rate:>12}" for rate in rates
    )
    lines = [
        f"capacity: store +{plan['store_rtt_ms']:g} ms, @connections +{plan['push_rtt_ms']:g} ms,"
        f" {plan['vcpus_per_instance']} vCPU instances at "
        f"{plan['target_utilization']:.0%} CPU",
        header,
    ]
    for room, row in result["rooms"].items():
        per_vcpu = row["msgs_per_s_per_vcpu"] or 0
        lines.append(
            f"{room:>6}{row['cpu_ms_per_message']:>12.2f}{per_vcpu:>12.0f}"
            f"{row['msgs_per_s']:>9.0f}{row['lost']:>6}"
            + "".join(f"{n:>12}" for n in row["instances"].values())
        )
    if result["per_member_cpu_ms"] is not None:
        lines.append(f"CPU per additional member: {result['per_member_cpu_ms']:.3f} ms")
    return "\n".join(lines)
