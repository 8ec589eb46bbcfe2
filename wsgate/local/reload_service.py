"""Replacing the service process without refusing a single request.

``wsgate local --reload`` binds the service's port itself and hands the listening socket to
each service process (``python -m ec2_service --fd N``), as systemd's socket activation does.
A reload starts the new process on the same socket while the old one still serves; the new one
says ``READY=1`` on a notification socket once it serves (systemd's ``sd_notify`` protocol),
and only then is the old one stopped (SIGTERM: Sanic finishes the requests it holds). Requests
arriving in between are answered by whichever process accepts them, and wait in the socket's
backlog rather than being refused. A new process that fails to import or start never says
ready: it is reaped, the old one keeps serving, and the error is one line.

The new process is a warm standby (``reload_standby``) started after the previous reload, so
a reload costs the project's import and the app's start, not the libraries' import.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ec2_service.socket_handoff import NOTIFY_SOCKET_ENV
from wsgate.local.processes import Child, Supervisor, python_module, spawn
from wsgate.local.reload_standby import ERROR_PREFIX, STANDBY_STATUS

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
READY = b"READY=1"
_names = itertools.count(1)


class ServiceSwapError(RuntimeError):
    """The new service did not become ready; the previous process still serves."""


def listening_socket(port: int, backlog: int = 1024) -> socket.socket:
    """The service's port on 127.0.0.1, bound once for the life of ``wsgate local``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def standby_argv(argv: list[str]) -> list[str]:
    """``python -m MODULE ARGS`` -> ``python -m wsgate.local.reload_standby MODULE ARGS``."""
    position = argv.index("-m")
    return python_module("wsgate.local.reload_standby", *argv[position + 1 :])


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def error_summary(output: str) -> str:
    """The cause of a failed start in one line: the standby's own ``ERROR_PREFIX`` line, else
    the last line printed with the last file and line a traceback named."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("--- wsgate local")
    ]
    marked = [line for line in lines if line.startswith(ERROR_PREFIX)]
    if marked:
        return marked[-1].removeprefix(ERROR_PREFIX).strip()
    if not lines:
        return "no output"
    frames = [match for line in lines if (match := _FRAME.search(line))]
    if not frames:
        return lines[-1]
    shown = "/".join(Path(frames[-1]["path"]).parts[-2:])
    return f"{lines[-1]} ({shown}:{frames[-1]['line']})"


@dataclass(frozen=True)
class Swapped:
    old_pid: int
    new_pid: int
    ready_s: float
    """From the go signal to the new process's READY=1."""


async def stop_process(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group ``process`` leads, SIGKILL it after ``grace_s``, reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.to_thread(process.wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers the leader left behind


@dataclass
class Standby:
    """A started ``reload_standby`` process and the socket it reports on."""

    process: subprocess.Popen[bytes]
    notify: socket.socket
    log_path: Path
    log_offset: int
    warm: bool = False
    """It said ``STATUS=standby``: the libraries are loaded and SIGUSR1 is safe to send."""

    @classmethod
    def start(
        cls, argv: list[str], env: dict[str, str], log_path: Path, pass_fds: tuple[int, ...] = ()
    ) -> Standby:
        """A standby for ``python -m MODULE ARGS`` (``argv``), appending to ``log_path``."""
        name = f"wsgate-local-{os.getpid()}-{next(_names)}"
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind("\0" + name)
        notify.setblocking(False)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            offset = log.tell()
            log.write(f"--- wsgate local preparing {argv[argv.index('-m') + 1]} ---\n".encode())
        env = env | {NOTIFY_SOCKET_ENV: "@" + name}
        process = spawn(standby_argv(argv), env, log_path, pass_fds)
        return cls(process, notify, log_path, offset)

    async def go(self, timeout_s: float) -> None:
        """Run the module now, importing the project as it is on disk."""
        await self.wait_warm(timeout_s)
        self.process.send_signal(signal.SIGUSR1)

    async def wait_warm(self, timeout_s: float) -> None:
        if not self.warm:
            await self.wait_for(STANDBY_STATUS, timeout_s)
            self.warm = True

    async def wait_for(self, status: bytes, timeout_s: float) -> None:
        """Until ``status`` arrives; :class:`ServiceSwapError` if the process exits first."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout_s
        receive = asyncio.ensure_future(loop.sock_recv(self.notify, 4096))
        try:
            while time.monotonic() < deadline:
                done, _ = await asyncio.wait({receive}, timeout=0.02)
                if done and status in receive.result().split(b"\n"):
                    return
                if done:
                    receive = asyncio.ensure_future(loop.sock_recv(self.notify, 4096))
                if self.process.poll() is not None:
                    raise ServiceSwapError(
                        self.failure(f"exited with code {self.process.returncode}")
                    )
            raise ServiceSwapError(self.failure(f"not ready after {timeout_s:.0f}s"))
        finally:
            receive.cancel()

    def output(self) -> str:
        """What was logged since this standby was started (others may have logged too)."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def failure(self, what: str) -> str:
        return f"{error_summary(self.output())} ({what})"

    async def discard(self) -> None:
        await stop_process(self.process, grace_s=1.0)
        self.notify.close()


@dataclass
class ServiceReplacer:
    """Keeps one standby ready and turns it into the service on each reload."""

    supervisor: Supervisor
    child_name: str = "service"
    timeout_s: float = READY_TIMEOUT_S
    _standby: Standby | None = field(default=None, init=False)

    def child(self) -> Child:
        return next(c for c in self.supervisor.children if c.name == self.child_name)

    def prepare(self) -> None:
        """Start the next standby now, so it is warm by the time an edit arrives."""
        if self._standby is None or self._standby.process.poll() is not None:
            child = self.child()
            self._standby = Standby.start(child.argv, child.env, child.log_path, child.pass_fds)

    async def warm(self) -> None:
        """Start a standby and wait until it has its libraries loaded."""
        self.prepare()
        assert self._standby is not None
        await self._standby.wait_warm(self.timeout_s)

    async def swap(self) -> Swapped:
        """Run the current code in the standby; replace the service once it is ready.

        The next standby is the caller's to :meth:`prepare` once the reload is over: warming
        up while the new service starts would compete with it for the CPU."""
        self.prepare()
        standby, self._standby = self._standby, None
        assert standby is not None
        try:
            await standby.wait_warm(self.timeout_s)
            started = time.monotonic()
            await standby.go(self.timeout_s)
            await standby.wait_for(READY, self.timeout_s)
        except BaseException:
            await standby.discard()
            raise
        ready_s = time.monotonic() - started
        standby.notify.close()
        child = self.child()
        old, child.process, child.started_at = child.process, standby.process, time.monotonic()
        await stop_process(old)
        return Swapped(old.pid, standby.process.pid, ready_s)

    async def close(self) -> None:
        if self._standby is not None:
            await self._standby.discard()
            self._standby = None
