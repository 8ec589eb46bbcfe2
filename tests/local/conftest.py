"""Start ``wsgate local`` exactly as a user does (the console script, in its own process group).

Each stack gets free ports and its own state directory, and is stopped with SIGTERM at the end:
the fixture then checks that no child outlived it, because "no orphans, ports freed" is part of
what ``wsgate local`` promises.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

STARTUP_TIMEOUT_S = 90.0


@dataclass
class RunningStack:
    """A started ``wsgate local``: its facts (``local.json``) and its process."""

    facts: dict[str, Any]
    process: subprocess.Popen[bytes]
    state_dir: Path
    output_path: Path

    def token(self, user: str) -> str:
        return str(self.facts["tokens"][user])

    def log(self, name: str) -> str:
        return (Path(self.facts["logs"]) / f"{name}.log").read_text(errors="replace")

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def aws_client(self, service: str, endpoint_fact: str) -> Any:
        """A boto3 client for the stack's moto (``ssmEndpoint``...) or gateway endpoint."""
        return boto3.client(
            service,
            region_name=self.facts["region"],
            endpoint_url=self.facts[endpoint_fact],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table(self) -> Any:
        """The connections table, through boto3's resource API."""
        return boto3.resource(
            "dynamodb",
            region_name=self.facts["region"],
            endpoint_url=self.facts["dynamodbEndpoint"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).Table(self.facts["tableName"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def start_local(state_dir: Path, *extra: str) -> RunningStack:
    """Run ``wsgate local`` on free ports and wait until it writes ``local.json``."""
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
        *extra,
    ]
    with output_path.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    facts_path = state_dir / "local.json"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not facts_path.exists():
        if process.poll() is not None:
            raise AssertionError(f"wsgate local exited early:\n{output_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"wsgate local not ready:\n{output_path.read_text()}")
        time.sleep(0.2)
    return RunningStack(json.loads(facts_path.read_text()), process, state_dir, output_path)


def stop_local(stack: RunningStack) -> None:
    """SIGTERM, as a service manager would; then prove every child is gone."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        stack.process.wait(30)
    deadline = time.monotonic() + 10
    survivors = dict(stack.facts["pids"])
    while survivors and time.monotonic() < deadline:
        survivors = {name: pid for name, pid in survivors.items() if _pid_alive(pid)}
        time.sleep(0.1)
    for pid in survivors.values():
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"children outlived wsgate local: {survivors}"


@pytest.fixture(scope="package")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The default stack (browser-friendly API key source) with three users."""
    stack = start_local(tmp_path_factory.mktemp("chat"), "--seed-users=alice,bob,carol")
    try:
        yield stack
    finally:
        stop_local(stack)


@pytest.fixture(scope="package")
def header_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The tutorial's key source: the ``x-api-key`` header, checked against the usage plan."""
    stack = start_local(tmp_path_factory.mktemp("header"), "--api-key-source=header")
    try:
        yield stack
    finally:
        stop_local(stack)
