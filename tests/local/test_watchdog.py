"""The watchdog against real child processes (a tiny HTTP server), not mocks."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from wsgate.local.processes import Child, StartupError, Supervisor, free_port
from wsgate.local.restart_policy import RestartPolicy
from wsgate.local.watchdog import CrashLoopError, Watchdog

FAST = RestartPolicy(initial_delay_s=0.05, max_delay_s=0.2, stable_after_s=60, max_restarts=3)


def _http_child(supervisor: Supervisor, name: str = "service") -> Child:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    child = supervisor.start(name, argv, {}, ready_url=f"http://127.0.0.1:{port}/")
    supervisor.wait_ready(child)
    return child


async def test_a_killed_child_is_restarted_in_place_and_each_event_is_one_line(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(tmp_path / "logs")
    lines: list[str] = []
    restarted: list[str] = []
    back = asyncio.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if "is back" in line:
            back.set()

    async def after(child: Child) -> None:
        restarted.append(child.name)

    try:
        child = _http_child(supervisor)
        first_pid = child.process.pid
        watchdog = Watchdog(supervisor, echo, frozenset({"service"}), FAST, after)
        task = asyncio.create_task(watchdog.run(interval_s=0.05))
        os.kill(first_pid, signal.SIGKILL)
        await asyncio.wait_for(back.wait(), 30)
        assert child.process.pid != first_pid
        assert child.process.poll() is None
        await supervisor.await_ready(child, timeout_s=10)
        assert restarted == ["service"]
        assert len(lines) == 2, lines
        assert f"service (pid {first_pid}) killed by SIGKILL" in lines[0]
        assert "restarting in 0.05s" in lines[0]
        assert lines[1].startswith("wsgate local: service is back (pid ")
        assert "restarted service" in child.log_path.read_text(), "the log is appended to"
        task.cancel()
    finally:
        supervisor.stop()


async def test_a_child_that_is_not_restartable_stops_everything(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs")
    try:
        child = _http_child(supervisor, "gateway")
        watchdog = Watchdog(supervisor, print, frozenset({"service"}), FAST)
        child.process.send_signal(signal.SIGKILL)
        with pytest.raises(StartupError, match="gateway killed by SIGKILL; stopping the stack"):
            await asyncio.wait_for(watchdog.run(interval_s=0.05), 30)
    finally:
        supervisor.stop()


async def test_a_crash_loop_stops_with_the_last_output(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs")
    lines: list[str] = []
    port = free_port()
    argv = [sys.executable, "-c", "import sys; print('config is broken'); sys.exit(3)"]
    child = supervisor.start("service", argv, {}, ready_url=f"http://127.0.0.1:{port}/")
    child.process.wait()
    watchdog = Watchdog(supervisor, lines.append, frozenset({"service"}), FAST)
    try:
        with pytest.raises(CrashLoopError) as raised:
            await asyncio.wait_for(watchdog.run(interval_s=0.05), 60)
    finally:
        supervisor.stop()
    message = str(raised.value)
    assert "service died 4 times in a row" in message
    assert "config is broken" in message
    assert [line.split("restarting in ")[1].split("s ")[0] for line in lines] == [
        "0.05",
        "0.1",
        "0.2",
    ]


MANAGER = """
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-m", "http.server", sys.argv[1], "--bind", "127.0.0.1"])
print("worker", worker.pid, flush=True)
sys.exit(worker.wait())
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_workers_left_behind_by_a_killed_manager_are_killed_before_the_restart(
    tmp_path: Path,
) -> None:
    """A Sanic manager with workers: its killed leader's workers would hold the port."""
    supervisor = Supervisor(tmp_path / "logs")
    port = free_port()
    argv = [sys.executable, "-c", MANAGER, str(port)]
    child = supervisor.start("service", argv, {}, ready_url=f"http://127.0.0.1:{port}/")
    try:
        supervisor.wait_ready(child)
        first_worker = int(child.log_path.read_text().split()[1])
        back = asyncio.Event()

        def echo(line: str) -> None:
            if "is back" in line:
                back.set()

        watchdog = Watchdog(supervisor, echo, frozenset({"service"}), FAST)
        task = asyncio.create_task(watchdog.run(interval_s=0.05))
        os.kill(child.process.pid, signal.SIGKILL)
        await asyncio.wait_for(back.wait(), 30)
        assert not _alive(first_worker), "the orphaned worker was killed with its group"
        second_worker = int(child.log_path.read_text().split("worker ")[2].split()[0])
        await asyncio.sleep(1.0)
        assert _alive(second_worker), "the new worker bound the port and serves"
        assert child.process.poll() is None
        task.cancel()
    finally:
        supervisor.stop()
    assert not _alive(second_worker), "stop takes the whole group down"
