"""``python -m wsgate.bench.soak``: many clients chat through ``wsgate local`` for minutes while
its children are killed, restarted and paused; then the figures and a pass/fail verdict.

The run, in phases (each message and ping is booked to the phase it was sent in):

1. ``steady``: every client chats (one message per ``send_interval_s``) and pings (one per
   ``ping_interval_s``) for ``duration_s``;
2. ``service-down`` / ``service-up``: the service is killed with SIGKILL, ``wsgate local``
   restarts it, and chat goes on for ``settle_s``;
3. ``store-down`` / ``store-up``: the same for moto (with ``--persist``, so the rooms survive);
4. ``pause-down`` / ``pause-up``: the service is stopped with SIGSTOP for ``pause_s``, then
   resumed with SIGCONT (nothing restarts it: it is alive, just not answering).

Each ``*-down`` phase starts ``pre_fault_s`` before its fault so that messages already in flight
when it strikes are not booked to a phase with the service up. Afterwards every client leaves,
the ops Lambda's ``prune`` (chalice_app's own code) runs against the local endpoints, and the
connections table must be empty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.connections_table import PARTITION_KEY
from wsgate.bench.soak_ledger import merge
from wsgate.bench.soak_processes import STACK_USER, LoadProcess, StackUnderTest, resources
from wsgate.bench.soak_verdict import render, verdict
from wsgate.local.aws_resources import LOCAL_CREDENTIALS, AwsTarget


@dataclass(frozen=True)
class SoakConfig:
    clients: int = 1000
    processes: int = 2
    room_size: int = 10
    duration_s: float = 180.0
    send_interval_s: float = 120.0
    ping_interval_s: float = 10.0
    warmup_s: float = 20.0
    pre_fault_s: float = 3.0
    settle_s: float = 15.0
    pause_s: float = 35.0
    drain_s: float = 5.0

    @classmethod
    def smoke(cls) -> SoakConfig:
        """What ``make test`` runs: every phase, small and short."""
        return cls(
            clients=20,
            processes=1,
            room_size=5,
            duration_s=10.0,
            send_interval_s=2.0,
            ping_interval_s=1.0,
            warmup_s=2.0,
            pre_fault_s=1.5,
            settle_s=4.0,
            pause_s=3.0,
            drain_s=3.0,
        )


async def _all_phase(loads: list[LoadProcess], name: str) -> None:
    await asyncio.gather(*(load.phase(name) for load in loads))


async def _kill_and_recover(
    stack: StackUnderTest, loads: list[LoadProcess], child: str, config: SoakConfig
) -> dict[str, Any]:
    label = "service" if child == "service" else "store"
    await _all_phase(loads, f"{label}-down")
    await asyncio.sleep(config.pre_fault_s)
    killed_at = time.monotonic()
    old = stack.signal(child, signal.SIGKILL)
    await stack.restarted(child, old)
    recovery_s = time.monotonic() - killed_at
    await _all_phase(loads, f"{label}-up")
    await asyncio.sleep(config.settle_s)
    return {"fault": f"kill -9 {child}", "recovered_s": round(recovery_s, 2)}


async def _pause(
    stack: StackUnderTest, loads: list[LoadProcess], config: SoakConfig
) -> dict[str, Any]:
    await _all_phase(loads, "pause-down")
    await asyncio.sleep(config.pre_fault_s)
    stack.signal("service", signal.SIGSTOP)
    try:
        await asyncio.sleep(config.pause_s)
    finally:
        stack.signal("service", signal.SIGCONT)
    resumed_at = time.monotonic()
    await stack.until_ready()
    recovery_s = time.monotonic() - resumed_at
    await _all_phase(loads, "pause-up")
    await asyncio.sleep(config.settle_s)
    return {"fault": f"SIGSTOP service {config.pause_s:g}s", "recovered_s": round(recovery_s, 2)}


def _dynamodb(facts: dict[str, Any]) -> Any:
    return AwsTarget(facts["dynamodbEndpoint"], facts["region"]).client("dynamodb")


def _table_count(facts: dict[str, Any]) -> int:
    return int(_dynamodb(facts).scan(TableName=facts["tableName"], Select="COUNT")["Count"])


def _record_exists(facts: dict[str, Any], connection_id: str) -> bool:
    item = _dynamodb(facts).get_item(
        TableName=facts["tableName"], Key={PARTITION_KEY: {"S": connection_id}}
    )
    return "Item" in item


def _plant_stale_record(facts: dict[str, Any]) -> str:
    """A record whose connection the gateway does not hold, as a crash would leave behind:
    prune must find it (``@connections`` GET answers 410) and delete it."""
    connection_id = f"soak-stale-{time.time_ns()}"
    _dynamodb(facts).put_item(
        TableName=facts["tableName"], Item={PARTITION_KEY: {"S": connection_id}}
    )
    return connection_id


async def _leaks(facts: dict[str, Any], wait_s: float) -> dict[str, Any]:
    """Records left once everyone has left, before and after the ops Lambda's prune."""
    from chalice_app.chalicelib.ops import OpsConfig, prune, remaining_time
    from shared.ops_actions import Prune

    deadline, last, stable_since = time.monotonic() + wait_s, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = await asyncio.to_thread(_table_count, facts)
        if count != last:
            last, stable_since = count, time.monotonic()
        if count == 0 or time.monotonic() - stable_since > 5:
            break
        await asyncio.sleep(0.5)
    stale = await asyncio.to_thread(_plant_stale_record, facts)
    for name, value in {**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": facts["region"]}.items():
        os.environ.setdefault(name, value)
    config = OpsConfig(
        region=facts["region"],
        table_name=facts["tableName"],
        connections_endpoint=facts["connectionsUrl"],
        usage_plan_id=None,
        dynamodb_endpoint=facts["dynamodbEndpoint"],
    )
    await prune(Prune(action="prune"), config, remaining_time(None))
    after = await asyncio.to_thread(_table_count, facts)
    left = await asyncio.to_thread(_record_exists, facts, stale)
    return {
        "records_before_prune": last,
        "planted_stale_record_pruned": not left,
        "records_after_prune": after,
    }


def _specs(config: SoakConfig, facts: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {
        "Authorization": f"Bearer {facts['tokens'][STACK_USER]}",
        "x-api-key": facts["apiKey"],
    }
    share, extra = divmod(config.clients, config.processes)
    return [
        {
            "tag": f"p{index}",
            "url": facts["websocketUrl"],
            "headers": headers,
            "clients": share + (index < extra),
            "room_size": config.room_size,
            "send_interval_s": config.send_interval_s,
            "ping_interval_s": config.ping_interval_s,
            "drain_s": config.drain_s,
        }
        for index in range(config.processes)
    ]


async def run_soak(config: SoakConfig, state_dir: Path) -> dict[str, Any]:
    """Run the whole soak against a fresh ``wsgate local`` in ``state_dir``; the raw report."""
    started = time.monotonic()
    stack = await asyncio.to_thread(StackUnderTest.start, state_dir)
    loads: list[LoadProcess] = []
    try:
        facts = stack.facts()
        connect_timeout = 60 + config.clients / 5
        loads = list(
            await asyncio.gather(
                *(LoadProcess.start(s, connect_timeout) for s in _specs(config, facts))
            )
        )
        connected_s = time.monotonic() - started
        await _all_phase(loads, "steady")
        await asyncio.sleep(min(config.warmup_s, config.duration_s))
        samples = {"start": resources(stack.pids())}
        await asyncio.sleep(max(0.0, config.duration_s - config.warmup_s))
        samples["end_of_steady"] = resources(stack.pids())
        faults = [
            await _kill_and_recover(stack, loads, "service", config),
            await _kill_and_recover(stack, loads, "moto", config),
            await _pause(stack, loads, config),
        ]
        samples["after_faults"] = resources(stack.pids())
        results = await asyncio.gather(*(load.stop(60 + config.drain_s) for load in loads))
        leaks = await _leaks(stack.facts(), wait_s=30 + config.clients / 20)
        supervision = [line for line in stack.output().splitlines() if "wsgate local:" in line]
    finally:
        for load in loads:
            await load.kill()
        await asyncio.to_thread(stack.stop)
    return {
        "config": asdict(config),
        "connect_s": round(connected_s, 1),
        "clients": sum(r["clients"] for r in results),
        "connected_until_stop": sum(r["connected_until_stop"] for r in results),
        "faults": faults,
        "resources": samples,
        "leaks": leaks,
        "supervision_lines": supervision,
        "total_s": round(time.monotonic() - started, 1),
        **merge(results),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsgate.bench.soak", description=__doc__)
    defaults = SoakConfig()
    parser.add_argument("--smoke", action="store_true", help="The tiny run of make test.")
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None)
    parser.add_argument("--out", type=Path, help="Write the JSON report here.")
    parser.add_argument("--state-dir", type=Path, help="Keep wsgate local's state and logs here.")
    args = parser.parse_args(argv)
    base = SoakConfig.smoke() if args.smoke else defaults
    overrides = {k: v for k, v in vars(args).items() if k in asdict(base) and v is not None}
    config = SoakConfig(**{**asdict(base), **overrides})
    with tempfile.TemporaryDirectory(prefix="wsgate-soak-") as scratch:
        state_dir = args.state_dir or Path(scratch)
        report = asyncio.run(run_soak(config, state_dir))
    report["verdict"] = verdict(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    sys.exit(0 if all(check["ok"] for check in report["verdict"]) else 1)


if __name__ == "__main__":
    main()
