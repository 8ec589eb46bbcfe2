"""The benchmark scenarios, each against the same load client, each with its own servers.

1. baseline: a bare ``websockets`` echo server (and room broadcaster for fan-out);
2. gateway overhead: the local gateway on the MOCK template, two-way routes;
3. full path: gateway -> Sanic -> ``@connections`` -> client on ``$default`` (no store),
   and the chat path (``sendmessage`` in a room of one: two store calls per message),
   with the store's own ceiling measured in the same run;
4. fan-out to rooms of N, with the service's bounded concurrency and with one-by-one pushes;
5. idle connections: connect rate and the gateway's RSS per connection;
6. push clients: the service's push client against aiobotocore, boto3 in threads and
   one-by-one, at 0 ms and 10 ms round trips (``wsgate.bench.push_clients``).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from wsgate.bench.fan_out_room import assign_room
from wsgate.bench.processes import (
    API_KEY,
    BIG_LIMITS,
    Server,
    run_client,
    start_baseline,
    start_mock_gateway,
)
from wsgate.bench.push_clients import compare as compare_push_clients
from wsgate.local.aws_resources import LOCAL_CREDENTIALS
from wsgate.local.processes import Child, Supervisor, free_port, python_module
from wsgate.local.stack import LocalStack
from wsgate.local.stack_options import LocalOptions, LocalStackInfo

STORE_CALLS_PER_CHAT_MESSAGE = 2
"""``sendmessage``: GetItem (the sender's room) + Query (the room's members)."""


@dataclass(frozen=True)
class Sizes:
    connections: int = 100
    messages: int = 100
    fan_out: tuple[int, ...] = (100, 1000)
    fan_out_sends: int = 10
    one_by_one_n: int = 1000
    idle: tuple[int, ...] = (1000, 10_000)
    rounds: int = 3
    pushes: int = 1000
    push_rtts_ms: tuple[float, ...] = (0, 10)

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(
            connections=3,
            messages=5,
            fan_out=(5,),
            fan_out_sends=2,
            one_by_one_n=5,
            idle=(20,),
            rounds=1,
            pushes=20,
        )


@dataclass
class Results:
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, result: dict[str, Any]) -> None:
        self.scenarios[name] = result


Progress = Callable[[str], None]


def _echo_spec(
    url: str,
    sizes: Sizes,
    payload: str,
    headers: dict[str, str] | None = None,
    setup: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "mode": "request_reply",
        "url": url,
        "headers": headers or {},
        "connections": sizes.connections,
        "messages": sizes.messages,
        "payload": payload,
        "setup": setup or [],
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate; every round's rate is kept alongside it."""
    ordered = sorted(runs, key=lambda r: r["msgs_per_s"])
    median = dict(ordered[len(ordered) // 2])
    median["rounds_msgs_per_s"] = [r["msgs_per_s"] for r in runs]
    return median


async def echo_and_gateway(sizes: Sizes, results: Results, progress: Progress) -> None:
    """The baseline echo and the MOCK gateway, alternated for ``sizes.rounds`` rounds.

    Alternating (rather than one after the other) exposes both to the same background noise
    of a shared machine; each reports its median round.
    """
    from infra.options import SynthOptions
    from infra.template import synthesize

    with tempfile.TemporaryDirectory() as directory:
        template = Path(directory) / "mock.json"
        template.write_text(
            json.dumps(synthesize(SynthOptions(integration="mock", open_connect=True)))
        )
        baseline_server = await start_baseline()
        gateway_server = await start_mock_gateway(template)
        try:
            await _alternate_echo_rounds(baseline_server, gateway_server, sizes, results, progress)
            await _baseline_broadcasts(baseline_server, sizes, results, progress)
            await baseline_server.stop()
            await _idle_connections(gateway_server, sizes, results, progress)
        finally:
            await baseline_server.stop()
            await gateway_server.stop()


async def _alternate_echo_rounds(
    baseline_server: Server,
    gateway_server: Server,
    sizes: Sizes,
    results: Results,
    progress: Progress,
) -> None:
    echo_url = f"ws://127.0.0.1:{baseline_server.port}/echo"
    gateway_url = f"ws://127.0.0.1:{gateway_server.port}/prod"
    echo_spec = _echo_spec(echo_url, sizes, '{"action":"joinroom","roomname":"r"}')
    gateway_spec = _echo_spec(
        gateway_url, sizes, '{"action":"joinroom","roomname":"r"}', {"x-api-key": API_KEY}
    )
    echo_runs, gateway_runs = [], []
    for round_number in range(1, sizes.rounds + 1):
        progress(f"baseline echo / MOCK gateway, round {round_number}")
        echo_runs.append(await run_client(echo_spec))
        gateway_runs.append(await run_client(gateway_spec))
    results.add("baseline_echo", _median_run(echo_runs))
    results.add("gateway_mock", _median_run(gateway_runs))


async def _baseline_broadcasts(
    baseline_server: Server, sizes: Sizes, results: Results, progress: Progress
) -> None:
    """The bare websockets server's broadcast to N receivers: the floor for gateway fan-out."""
    for n in sizes.fan_out:
        progress(f"baseline broadcast N={n}")
        room = f"ws://127.0.0.1:{baseline_server.port}/room"
        spec = {
            "mode": "fan_out",
            "url": room,
            "sender_url": room,
            "receivers": n,
            "sends": sizes.fan_out_sends,
            "payload": "{marker}",
        }
        results.add(f"baseline_fanout_{n}", await run_client(spec))


async def _idle_connections(
    gateway_server: Server, sizes: Sizes, results: Results, progress: Progress
) -> None:
    """N idle connections held on the gateway: its memory per connection."""
    gateway_url = f"ws://127.0.0.1:{gateway_server.port}/prod"
    for n in sizes.idle:
        progress(f"idle connections N={n}")
        rss = {"before": gateway_server.rss_bytes()}

        async def measure(rss: dict[str, int] = rss) -> None:
            await asyncio.sleep(1)
            rss["after"] = gateway_server.rss_bytes()

        spec = {
            "mode": "idle",
            "url": gateway_url,
            "headers": {"x-api-key": API_KEY},
            "connections": n,
            "deadline_s": 900,
        }
        result = await run_client(spec, measure)
        result["gateway_rss_bytes"] = rss["after"]
        result["rss_per_connection_bytes"] = (rss["after"] - rss["before"]) / n
        results.add(f"idle_{n}", result)


def _start_stack(
    directory: Path, concurrency: int, keep_alive_store: bool = True
) -> tuple[LocalStack, LocalStackInfo]:
    """The local stack; with ``keep_alive_store`` the service reaches moto through a
    keep-alive proxy (``wsgate.bench.delay_proxy``, no delay), as it reaches DynamoDB.

    moto's werkzeug server closes the connection after every answer, so without the proxy the
    service pays a TCP connect per store call that DynamoDB never makes it pay; the proxy's
    CPU is reported as its own process (``store_proxy``).
    """
    extra: dict[str, Any] = {}
    proxy: Child | None = None
    if keep_alive_store:
        moto_port, proxy_port = free_port(), free_port()
        proxy_url = f"http://127.0.0.1:{proxy_port}"
        supervisor = Supervisor(directory / "proxy-logs")
        argv = ["--port", str(proxy_port), "--upstream", f"http://127.0.0.1:{moto_port}"]
        proxy = supervisor.start(
            "store_proxy", python_module("wsgate.bench.delay_proxy", *argv), {}
        )
        supervisor.wait_ready(proxy, proxy_url + "/")
        extra = {"moto_port": moto_port, "dynamodb_endpoint": proxy_url}
    options = LocalOptions(
        gateway_port=0,
        service_port=0,
        console_port=0,
        state_dir=directory,
        users=("bench", "sender", "member"),
        parameters=tuple(BIG_LIMITS.items()),
        log_level="WARNING",
        gateway_log_level="OFF",
        fanout_concurrency=concurrency,
        **({"moto_port": 0} | extra),
    )
    stack = LocalStack(options, echo=lambda _: None)
    if proxy is not None:  # stopped with the stack, and measured with it
        stack.supervisor.children.append(proxy)
    try:
        info = stack.start()
    except BaseException:
        stack.stop()
        raise
    if proxy is not None:
        info.pids["store_proxy"] = proxy.process.pid
    return stack, info


def _cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds used so far by each stack process (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        used[name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


async def _with_cpu(info: LocalStackInfo, run: Any, messages: int) -> dict[str, Any]:
    """Run a scenario and attribute CPU milliseconds per message to each stack process:
    where the time goes, measured rather than guessed."""
    before = _cpu_seconds(info.pids)
    result: dict[str, Any] = await run
    after = _cpu_seconds(info.pids)
    result["cpu_ms_per_message"] = {
        name: (after[name] - before[name]) * 1000 / max(messages, 1) for name in after
    }
    return result


def _table(info: LocalStackInfo) -> Any:
    return boto3.resource(
        "dynamodb",
        region_name=info.region,
        endpoint_url=info.dynamodb_endpoint,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).Table(info.table_name)


async def store_ceiling(info: LocalStackInfo, seconds: float = 3.0) -> float:
    """Store calls/s the local DynamoDB allows for the chat path's mix (GetItem + Query)."""
    from shared.connection_store import ConnectionStore

    for name, value in LOCAL_CREDENTIALS.items():  # moto accepts any credentials
        os.environ.setdefault(name, value)
    async with ConnectionStore(
        info.table_name, region=info.region, endpoint_url=info.dynamodb_endpoint
    ) as store:
        await store.put_connection("ceiling=", user_id="u", connected_at=int(time.time() * 1000))
        await store.join_room("ceiling=", "ceiling-room")
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await store.get_connection("ceiling=")
                await store.room_members("ceiling-room")
                done += 2

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        rate = done / (time.perf_counter() - started)
        await store.delete_connection("ceiling=")
    return rate


async def _fan_out_scenario(info: LocalStackInfo, n: int, sends: int) -> dict[str, Any]:
    table = _table(info)

    async def make_room() -> None:
        await asyncio.to_thread(assign_room, table, n)

    spec = {
        "mode": "fan_out",
        "url": info.websocket_url,
        "sender_url": info.websocket_url,
        "receiver_headers": {"Authorization": f"Bearer {info.tokens['member']}"},
        "sender_headers": {"Authorization": f"Bearer {info.tokens['sender']}"},
        "receivers": n,
        "sends": sends,
        "payload": json.dumps({"action": "sendmessage", "message": "{marker}"}),
        "deadline_s": 900,
    }
    result = await run_client(spec, make_room)
    # Records of closed connections go through $disconnect; wait so the next room starts clean.
    for _ in range(100):
        left = await asyncio.to_thread(lambda: table.scan(Select="COUNT")["Count"])
        if left == 0:
            break
        await asyncio.sleep(0.2)
    return result


async def full_path(sizes: Sizes, results: Results, progress: Progress) -> None:
    with tempfile.TemporaryDirectory() as directory:
        stack, info = await asyncio.to_thread(_start_stack, Path(directory), 64)
        try:
            auth = {"Authorization": f"Bearer {info.tokens['bench']}"}
            progress("full path, no store ($default help frame)")
            total = sizes.connections * sizes.messages
            spec = _echo_spec(info.websocket_url, sizes, "hello?", auth)
            results.add("full_default", await _with_cpu(info, run_client(spec), total))
            progress("chat path (sendmessage, room of 1)")
            setup = ['{"action":"joinroom","roomname":"solo-{i}"}']
            payload = json.dumps({"action": "sendmessage", "message": "hi"})
            spec = _echo_spec(info.websocket_url, sizes, payload, auth, setup)
            chat = await _with_cpu(info, run_client(spec), total)
            progress("store ceiling")
            ceiling = await store_ceiling(info)
            chat["store_calls_per_message"] = STORE_CALLS_PER_CHAT_MESSAGE
            chat["store_ceiling_calls_per_s"] = ceiling
            chat["store_bound_msgs_per_s"] = ceiling / STORE_CALLS_PER_CHAT_MESSAGE
            results.add("chat_path", chat)
            for n in sizes.fan_out:
                progress(f"fan-out N={n} (concurrency 64)")
                results.add(f"fanout_{n}", await _fan_out_scenario(info, n, sizes.fan_out_sends))
        finally:
            await asyncio.to_thread(stack.stop)
        serial = Path(directory) / "serial"
        stack, info = await asyncio.to_thread(_start_stack, serial, 1, False)
        try:
            progress("chat path, moto direct (a TCP connection per store call)")
            auth = {"Authorization": f"Bearer {info.tokens['bench']}"}
            spec = _echo_spec(info.websocket_url, sizes, payload, auth, setup)
            results.add("chat_path_moto_direct", await _with_cpu(info, run_client(spec), total))
            n = sizes.one_by_one_n
            progress(f"fan-out N={n} one by one (concurrency 1)")
            sends = max(2, sizes.fan_out_sends // 3)
            results.add(f"fanout_{n}_one_by_one", await _fan_out_scenario(info, n, sends))
        finally:
            await asyncio.to_thread(stack.stop)


async def push_clients(sizes: Sizes, results: Results, progress: Progress) -> None:
    progress(f"push clients ({sizes.pushes} pushes)")
    for name, result in (await compare_push_clients(sizes.pushes, sizes.push_rtts_ms)).items():
        results.add(name, result)


SCENARIOS = [echo_and_gateway, full_path, push_clients]
