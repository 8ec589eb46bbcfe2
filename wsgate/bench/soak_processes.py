"""The processes a soak drives: ``wsgate local`` (started as a user starts it) and load clients.

``wsgate local`` runs as a subprocess with ``--persist`` and free ports; its children are found
through ``local.json``, which it rewrites after every restart, so a fault is injected with a
plain ``kill`` on the pid published there and recovery is seen as a new pid that answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsgate.bench.processes import BIG_LIMITS

STACK_USER = "soak"


class SoakError(RuntimeError):
    """The soak could not run (the stack did not start, a load process failed)."""


@dataclass
class StackUnderTest:
    """A running ``wsgate local``."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    output_path: Path

    @classmethod
    def start(cls, state_dir: Path, timeout_s: float = 180.0) -> StackUnderTest:
        state_dir.mkdir(parents=True, exist_ok=True)
        output_path = state_dir / "wsgate-local.out"
        argv = [
            sys.executable,
            "-m",
            "wsgate.cli",
            "local",
            "--gateway-port=0",
            "--service-port=0",
            "--moto-port=0",
            "--console-port=0",
            f"--state-dir={state_dir}",
            f"--seed-users={STACK_USER}",
            "--persist",
            "--log-level=WARNING",
            "--quiet",  # a thousand clients' event lines would only fill the output file
        ]
        for key, value in BIG_LIMITS.items():
            argv.append(f"--param={key}={value}")
        with output_path.open("wb") as output:
            process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        stack = cls(process, state_dir, output_path)
        deadline = time.monotonic() + timeout_s
        while not (state_dir / "local.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                stack.stop()
                raise SoakError(f"wsgate local did not start:\n{stack.output()}")
            time.sleep(0.2)
        return stack

    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = json.loads((self.state_dir / "local.json").read_text())
        return facts

    def pids(self) -> dict[str, int]:
        return {"wsgate-local": self.process.pid, **self.facts()["pids"]}

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def signal(self, child: str, signum: int) -> int:
        pid = int(self.facts()["pids"][child])
        os.kill(pid, signum)
        return pid

    async def restarted(self, child: str, old_pid: int, timeout_s: float = 180.0) -> float:
        """Wait until ``child`` has a new pid and the service answers ``/ready``; seconds."""
        started = time.monotonic()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SoakError(f"wsgate local stopped:\n{self.output()}")
            if int(self.facts()["pids"][child]) != old_pid and await self.ready():
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        raise SoakError(f"{child} did not come back in {timeout_s:.0f}s:\n{self.output()}")

    async def until_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self.ready():
                return
            await asyncio.sleep(0.1)
        raise SoakError(f"the service did not answer /ready in {timeout_s:.0f}s")

    async def ready(self) -> bool:
        """The service answers and reaches its store (``/ready`` is 200)."""
        return await asyncio.to_thread(_ready, self.facts()["serviceUrl"] + "/ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def resources(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """RSS (MiB) and open file descriptors of each process, from ``/proc``."""
    sample: dict[str, dict[str, float]] = {}
    for name, pid in pids.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue
        rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:")
        sample[name] = {"pid": pid, "rss_mib": round(rss_kib / 1024, 1), "fds": fds}
    return sample


class LoadProcess:
    """One ``wsgate.bench.soak_client`` process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, spec: dict[str, Any], timeout_s: float) -> LoadProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsgate.bench.soak_client",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        load = cls(process)
        await load._write(json.dumps(spec))
        await load._expect("READY", timeout_s)
        return load

    async def _write(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()

    async def _expect(self, wanted: str, timeout_s: float) -> None:
        line = await self._line(timeout_s)
        if line != wanted:
            raise SoakError(f"load client said {line!r}, expected {wanted!r}")

    async def _line(self, timeout_s: float) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout_s):
            return (await self.process.stdout.readline()).decode().strip()

    async def phase(self, name: str) -> None:
        await self._write(f"PHASE {name}")
        await self._expect(f"PHASE-OK {name}", 30)

    async def stop(self, timeout_s: float) -> dict[str, Any]:
        await self._write("STOP")
        result: dict[str, Any] = json.loads(await self._line(timeout_s))
        await asyncio.wait_for(self.process.wait(), 30)
        return result

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
