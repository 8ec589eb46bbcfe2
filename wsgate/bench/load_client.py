"""The load client, in its own process: ``python -m wsgate.bench.load_client`` reads a JSON spec on
stdin's first line and prints one JSON result line.

Phases, so the orchestrator can prepare the server side between them: connect everything, print
``READY``, wait for ``GO`` on stdin, run, print the result. Everything is bounded: per-reply
timeouts count as lost, never as a hang.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from wsgate.bench.stats import summarize
from wsgate.fd_limit import raise_fd_limit


async def _open(
    url: str, headers: dict[str, str], count: int, parallel: int = 50
) -> tuple[list[ClientConnection], float]:
    """Open ``count`` connections, ``parallel`` at a time; return them and the connect rate."""
    semaphore = asyncio.Semaphore(parallel)

    async def one() -> ClientConnection:
        async with semaphore:
            return await connect(
                url, additional_headers=headers, max_size=2**20, open_timeout=60, ping_interval=None
            )

    started = time.perf_counter()
    connections = await asyncio.gather(*(one() for _ in range(count)))
    return list(connections), count / (time.perf_counter() - started)


async def _line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


async def _handshake() -> None:
    print("READY", flush=True)
    if (await _line()).strip() != "GO":
        raise SystemExit("expected GO")


async def request_reply(spec: dict[str, Any]) -> dict[str, Any]:
    """Each connection sends ``messages`` messages, each after the previous one's reply."""
    connections, _ = await _open(spec["url"], spec.get("headers", {}), spec["connections"])
    for index, client in enumerate(connections):
        for setup in spec.get("setup", []):
            await client.send(setup.replace("{i}", str(index)))
            await asyncio.wait_for(client.recv(), 30)
    await _handshake()
    latencies: list[float] = []
    lost = 0
    timeout = spec.get("reply_timeout_s", 10)

    async def run(client: ClientConnection) -> None:
        nonlocal lost
        for _ in range(spec["messages"]):
            sent = time.perf_counter()
            await client.send(spec["payload"])
            try:
                await asyncio.wait_for(client.recv(), timeout)
            except TimeoutError:
                lost += 1
                continue
            latencies.append((time.perf_counter() - sent) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(run(c) for c in connections))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in connections))
    return {
        "msgs_per_s": len(latencies) / elapsed,
        "elapsed_s": elapsed,
        "lost": lost,
        "failed": 0,
        "latencies_ms": latencies,
        **summarize(latencies),
    }


async def fan_out(spec: dict[str, Any]) -> dict[str, Any]:
    """One sender, ``receivers`` members; time until every member has each of ``sends``."""
    receivers, _ = await _open(spec["url"], spec.get("receiver_headers", {}), spec["receivers"])
    sender = await connect(
        spec["sender_url"],
        additional_headers=spec.get("sender_headers", {}),
        max_size=2**20,
        ping_interval=None,
    )
    await _handshake()
    times: list[float] = []
    lost = 0
    timeout = spec.get("reply_timeout_s", 30)

    async def wait_one(client: ClientConnection, marker: str) -> float | None:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    frame = await client.recv()
                    if marker in frame:
                        return time.perf_counter()
        except TimeoutError:
            return None

    for n in range(spec["sends"]):
        marker = f"fanout-{n}-{time.time_ns()}"
        waiters = [asyncio.create_task(wait_one(c, marker)) for c in receivers]
        await asyncio.sleep(0)
        sent = time.perf_counter()
        await sender.send(spec["payload"].replace("{marker}", marker))
        arrivals = await asyncio.gather(*waiters)
        got = [a for a in arrivals if a is not None]
        lost += len(arrivals) - len(got)
        if got:
            times.append((max(got) - sent) * 1000)
    await sender.close()
    await asyncio.gather(*(c.close() for c in receivers))
    return {"lost": lost, "failed": 0, "latencies_ms": times, **summarize(times)}


async def idle_connections(spec: dict[str, Any]) -> dict[str, Any]:
    """Open ``connections`` idle connections; hold them until GO (the server's RSS is read)."""
    connections, rate = await _open(spec["url"], spec.get("headers", {}), spec["connections"], 100)
    await _handshake()
    await asyncio.gather(*(c.close() for c in connections))
    return {"connects_per_s": rate, "opened": len(connections), "lost": 0, "failed": 0}


MODES = {"request_reply": request_reply, "fan_out": fan_out, "idle": idle_connections}


def main() -> None:
    raise_fd_limit()
    spec = json.loads(sys.stdin.readline())
    result = asyncio.run(MODES[spec["mode"]](spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
