"""The processes a benchmark run starts: baseline server, MOCK gateway, full stack, load client."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from wsgate.local.processes import free_port

BIG_LIMITS = {
    # The tutorial's usage plan (burst 10, rate 5 connects/s) would make a load test measure
    # the plan; benchmarks lift every limit that is not the thing measured.
    "UsagePlanBurstLimit": "1000000",
    "UsagePlanRateLimit": "1000000",
    "UsagePlanQuotaLimit": "100000000",
    "StageBurstLimit": "1000000",
    "StageRateLimit": "1000000",
}
API_KEY = "bench-" + "k" * 30


class Server:
    """A server subprocess that prints a readiness line on stdout or stderr."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    @classmethod
    async def start(cls, argv: list[str], port: int, ready_text: str) -> Server:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        assert process.stdout is not None
        async with asyncio.timeout(60):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"{argv[2:4]} exited before it was ready")
                if ready_text in line:
                    break
        asyncio.get_running_loop().create_task(_drain(process))
        return cls(process, port)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while await process.stdout.readline():
        pass


async def start_baseline() -> Server:
    port = free_port()
    return await Server.start(
        [sys.executable, "-m", "wsgate.bench.baseline", "--port", str(port)], port, "ready"
    )


async def start_mock_gateway(template: Path) -> Server:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "wsgate.cli",
        "gateway",
        "--template",
        str(template),
        "--port",
        str(port),
        "--log-level",
        "OFF",
        "--param",
        f"DevApiKeyValue={API_KEY}",
    ]
    for key, value in BIG_LIMITS.items():
        argv += ["--param", f"{key}={value}"]
    return await Server.start(argv, port, "wsgate gateway")


Between = Callable[[], Awaitable[None]]


async def run_client(spec: dict[str, Any], between: Between | None = None) -> dict[str, Any]:
    """Run the load client process; ``between`` runs after its connections are open."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsgate.bench.load_client",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**26,  # the result line carries every latency sample
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(spec) + "\n").encode())
    await process.stdin.drain()
    try:
        async with asyncio.timeout(spec.get("deadline_s", 600)):
            line = (await process.stdout.readline()).decode().strip()
            if line != "READY":
                raise RuntimeError(f"load client failed before READY: {line!r}")
            if between is not None:
                await between()
            process.stdin.write(b"GO\n")
            await process.stdin.drain()
            result: dict[str, Any] = json.loads(await process.stdout.readline())
    finally:
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
    return result
