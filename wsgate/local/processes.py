"""Start the stack's child processes and make sure they never outlive ``wsgate local``.

Each child gets ``PR_SET_PDEATHSIG`` (Linux), so even a ``kill -9`` of ``wsgate local`` takes
its children down instead of leaving a service holding port 8080. Shutdown is SIGTERM, a grace
period, then SIGKILL, in reverse start order.

A child remembers how it was started, so a crashed one can be started again in place (same
argv, environment, port and log file). Each child leads its own process group: a service with
``--workers 2`` is a Sanic manager plus worker processes, and when the manager is killed its
workers live on holding the port, so the whole group is killed before the restart (and at
shutdown). The death signal is tied to the *thread* that forks, so
children are always spawned from the main thread, never from a worker thread that may exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


class PortInUseError(RuntimeError):
    """A port the stack needs is taken; the message says which and how to pick another."""


class StartupError(RuntimeError):
    """A child process exited or did not become ready; the message carries its last output."""


def ensure_port_free(port: int, what: str, flag: str) -> None:
    """Fail fast, before starting anything, if ``port`` on 127.0.0.1 is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUseError(
                f"port {port} for {what} is already in use on 127.0.0.1; "
                f"stop whatever holds it or pass {flag} <another port>"
            ) from None


def free_port() -> int:
    """A port the kernel just handed out, for tests and ``--port 0``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    """One supervised child process, how to start it again, and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    ready_timeout_s: float = 60.0
    """How long a restart may take to answer before it counts as failed."""
    pass_fds: tuple[int, ...] = ()
    """Descriptors the child inherits at their own numbers (a listening socket it serves)."""

    def uptime_s(self) -> float:
        return time.monotonic() - self.started_at

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Supervisor:
    """Starts children, waits until they answer, and stops them all together."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        ready_url: str | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_path.write_bytes(b"")
        # Appending, so a successor (a reload) writing to the same file is never overwritten.
        process = _spawn(argv, env, log_path, "ab", pass_fds)
        child = Child(name, process, log_path, list(argv), env, ready_url, pass_fds=pass_fds)
        self.children.append(child)
        return child

    def respawn(self, child: Child) -> None:
        """Start a dead child again in place, appending to its log after a marker line."""
        _kill_group(child.process.pid)  # what the dead leader left behind
        with child.log_path.open("ab") as log:
            log.write(f"--- wsgate local restarted {child.name} ---\n".encode())
        child.process = _spawn(child.argv, child.env, child.log_path, "ab", child.pass_fds)
        child.started_at = time.monotonic()

    async def await_ready(self, child: Child, timeout_s: float | None = None) -> None:
        """:meth:`wait_ready` without blocking the event loop (used while the stack runs)."""
        assert child.ready_url is not None, f"{child.name} has no readiness URL"
        timeout_s = timeout_s or child.ready_timeout_s
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if child.process.poll() is not None:
                    raise StartupError(
                        f"{child.name} exited with code {child.process.returncode}:\n{child.tail()}"
                    )
                try:
                    async with session.get(child.ready_url):
                        return
                except (aiohttp.ClientError, TimeoutError):
                    await asyncio.sleep(0.1)
        raise StartupError(
            f"{child.name} did not answer {child.ready_url} in {timeout_s:.0f}s:\n{child.tail()}"
        )

    def wait_ready(self, child: Child, url: str | None = None, timeout_s: float = 30.0) -> None:
        """Poll ``url`` until it answers (any HTTP status), or fail with the child's output."""
        url = url or child.ready_url
        assert url is not None, f"{child.name} has no readiness URL"
        child.ready_url = url
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise StartupError(
                    f"{child.name} exited with code {child.process.returncode}:\n{child.tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise StartupError(
            f"{child.name} did not answer {url} in {timeout_s:.0f}s:\n{child.tail()}"
        )

    def exited(self) -> list[Child]:
        """Children that have died since they were last started."""
        return [c for c in self.children if c.process.poll() is not None]

    def first_exited(self) -> Child | None:
        """A child that has died, if any: the stack is broken and should stop."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self, grace_s: float = 5.0) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            _kill_group(child.process.pid)
        self.children.clear()


def _kill_group(leader_pid: int, timeout_s: float = 5.0) -> None:
    """SIGKILL what is left of the process group ``leader_pid`` led, and wait until it is gone
    (so the port it held is free again); usually there is nothing left."""
    deadline = time.monotonic() + timeout_s
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader_pid, signal.SIGKILL)
        while time.monotonic() < deadline:
            os.killpg(leader_pid, 0)  # raises ProcessLookupError once every member is reaped
            time.sleep(0.02)


def _spawn(
    argv: Sequence[str],
    env: dict[str, str],
    log_path: Path,
    mode: str,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    with log_path.open(mode) as log_file:
        return subprocess.Popen(
            list(argv),
            # NOTIFY_SOCKET is systemd's for wsgate local itself; a child gets one only if given.
            env={**_inherited_env(), "PYTHONUNBUFFERED": "1", **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            pass_fds=pass_fds,
        )


def spawn(
    argv: Sequence[str], env: dict[str, str], log_path: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    """A process like the supervised ones (own group, dies with us, output appended to
    ``log_path``) that the caller manages itself: a reload's standby."""
    return _spawn(argv, env, log_path, "ab", pass_fds)


def _inherited_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}


def python_module(module: str, *args: str) -> list[str]:
    """argv to run ``python -m module`` with this interpreter (the project's venv)."""
    return [sys.executable, "-m", module, *args]


OnLine = Callable[[str], None]
