"""Replacing the service process without refusing a single request.

``wsgate local --reload`` binds the service's port itself and hands the listening socket to
each service process (``python -m ec2_service --fd N``), as systemd's socket activation does.
A reload starts the new process on the same socket while the old one still serves; the new one
says ``READY=1`` on a notification socket once it serves (systemd's ``sd_notify`` protocol),
and only then is the old one stopped (SIGTERM: Sanic finishes the requests it holds). Requests
arriving in between are answered by whichever process accepts them, and wait in the socket's
backlog rather than being refused. A new process that fails to import or start never says
ready: it is reaped, the old one keeps serving, and the error is the last line it printed.
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
from dataclasses import dataclass
from pathlib import Path

from ec2_service.socket_handoff import NOTIFY_SOCKET_ENV
from wsgate.local.processes import Child, Supervisor

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
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


@dataclass(frozen=True)
class Swapped:
    old_pid: int
    new_pid: int
    ready_s: float
    """From starting the new process to its READY=1."""


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def error_summary(output: str) -> str:
    """The last line a failed start printed, with the last file and line its traceback named:
    ``SyntaxError: '(' was never closed (ec2_service/handlers.py:12)``."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("--- wsgate local")
    ]
    if not lines:
        return "no output"
    frames = [match for line in lines if (match := _FRAME.search(line))]
    if not frames:
        return lines[-1]
    path = Path(frames[-1]["path"])
    shown = "/".join(path.parts[-2:])
    return f"{lines[-1]} ({shown}:{frames[-1]['line']})"


def _output_since(child: Child, offset: int) -> str:
    with child.log_path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


async def _wait_ready(
    notify: socket.socket, process: subprocess.Popen[bytes], timeout_s: float
) -> None:
    """Until READY=1 arrives; :class:`ServiceSwapError` if the process exits or times out."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + timeout_s
    receive = asyncio.ensure_future(loop.sock_recv(notify, 4096))
    try:
        while time.monotonic() < deadline:
            done, _ = await asyncio.wait({receive}, timeout=0.05)
            if done and b"READY=1" in receive.result().split(b"\n"):
                return
            if done:
                receive = asyncio.ensure_future(loop.sock_recv(notify, 4096))
            if process.poll() is not None:
                raise ServiceSwapError(f"exited with code {process.returncode}")
        raise ServiceSwapError(f"not ready after {timeout_s:.0f}s")
    finally:
        receive.cancel()


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


async def swap_service(
    supervisor: Supervisor, child: Child, timeout_s: float = READY_TIMEOUT_S
) -> Swapped:
    """Start ``child`` again on its inherited socket; replace it only once the new one serves."""
    name = f"wsgate-local-{os.getpid()}-{next(_names)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind("\0" + name)
        notify.setblocking(False)
        offset = child.log_path.stat().st_size if child.log_path.exists() else 0
        started = time.monotonic()
        new = supervisor.spawn_successor(child, {NOTIFY_SOCKET_ENV: "@" + name})
        try:
            await _wait_ready(notify, new, timeout_s)
        except ServiceSwapError as error:
            await stop_process(new, grace_s=1.0)
            cause = error_summary(_output_since(child, offset))
            raise ServiceSwapError(f"{cause} ({error})") from None
        except BaseException:
            await stop_process(new, grace_s=1.0)
            raise
    ready_s = time.monotonic() - started
    old = child.process
    child.process = new
    child.started_at = time.monotonic()
    await stop_process(old)
    return Swapped(old.pid, new.pid, ready_s)
