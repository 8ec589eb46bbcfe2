"""Several ``wsgate local`` stacks in one folder, told apart by ``--name``, and the commands
(``wsgate token``, ``wsgate logs``) a developer runs next to them from that folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.local.conftest import STARTUP_TIMEOUT_S, RunningStack

COMMAND_TIMEOUT_S = 60.0


def start_named(folder: Path, name: str, *extra: str) -> RunningStack:
    """``wsgate local --name NAME`` run from ``folder`` on free ports; ready once its
    ``.wsgate/NAME/local.json`` exists."""
    state_dir = folder / ".wsgate" / name
    output_path = folder / f"{name}.out"
    argv = [sys.executable, "-m", "wsgate.cli", "local", f"--name={name}"]
    argv += [f"--{port}-port=0" for port in ("gateway", "service", "moto", "console")]
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [*argv, *extra], cwd=folder, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not (state_dir / "local.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(
                f"wsgate local --name {name} not ready:\n{output_path.read_text()}"
            )
        time.sleep(0.2)
    facts = json.loads((state_dir / "local.json").read_text())
    return RunningStack(facts, process, state_dir, output_path)


def wsgate(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``wsgate`` command as typed in ``folder``, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "wsgate.cli", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def token_for(folder: Path, user: str, *args: str) -> str:
    """``wsgate token --user USER`` must succeed and print only the token on stdout."""
    done = wsgate(folder, "token", "--user", user, *args)
    assert done.returncode == 0, done.stderr
    (token,) = done.stdout.split()
    return token


def wait_for_output(
    stack: RunningStack, done: Callable[[str], bool], timeout_s: float = 30.0
) -> str:
    """``wsgate local``'s terminal output once ``done`` holds for it (it prints as it reads)."""
    deadline = time.monotonic() + timeout_s
    while not done(text := stack.output()):
        if time.monotonic() > deadline:
            raise AssertionError(f"wsgate local's output never got there:\n{text}")
        time.sleep(0.2)
    return text
