"""Start the stack's child processes and make sure they never outlive ``wsgate local``.

Each child gets ``PR_SET_PDEATHSIG`` (Linux), so even a ``kill -9`` of ``wsgate local`` takes
its children down instead of leaving a service holding port 8080. Shutdown is SIGTERM, a grace
period, then SIGKILL, in reverse start order.
"""

from __future__ import annotations

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
    """One supervised child process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

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

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            list(argv),
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log_file.close()
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def wait_ready(self, child: Child, url: str, timeout_s: float = 30.0) -> None:
        """Poll ``url`` until it answers (any HTTP status), or fail with the child's output."""
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
        self.children.clear()


def python_module(module: str, *args: str) -> list[str]:
    """argv to run ``python -m module`` with this interpreter (the project's venv)."""
    return [sys.executable, "-m", module, *args]


OnLine = Callable[[str], None]
