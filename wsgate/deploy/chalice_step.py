"""``chalice deploy``/``chalice delete`` as subprocesses in ``chalice_app/``.

A subprocess rather than Chalice's Python API: it is the documented interface, it writes
``.chalice/deployed/<stage>.json`` exactly as a hand-run deploy does, and the profile and
region reach it the way the AWS CLI passes them (environment variables).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from infra.chalice_outputs import CHALICE_DIR
from wsgate.deploy.errors import ChaliceError

TAIL_LINES = 5


class ChaliceRunner(Protocol):
    """What the deployment needs from Chalice (tests inject a recording stand-in)."""

    def deploy(self, stage: str, env: Mapping[str, str]) -> None: ...

    def delete(self, stage: str, env: Mapping[str, str]) -> None: ...


def aws_environment(profile: str | None, region: str) -> dict[str, str]:
    """The variables that make a child process use the same account and region."""
    env = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    if profile:
        env["AWS_PROFILE"] = profile
    return env


@dataclass
class ChaliceCli:
    """The real runner; each output line goes to ``progress`` as it arrives."""

    progress: Callable[[str], None]
    project_dir: Path = CHALICE_DIR
    executable: str | None = None
    """None: the ``chalice`` installed beside this Python, else the one on PATH."""

    def _executable(self) -> str:
        if self.executable:
            return self.executable
        beside = Path(sys.executable).with_name("chalice")
        found = str(beside) if beside.exists() else shutil.which("chalice")
        if found is None:
            raise ChaliceError("chalice is not installed: pip install 'wsgate' installs it")
        return found

    def _run(self, args: list[str], env: Mapping[str, str]) -> None:
        command = [self._executable(), *args]
        tail: list[str] = []
        with subprocess.Popen(
            command,
            cwd=self.project_dir,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                self.progress(f"  chalice: {line.rstrip()}")
                tail = [*tail, line.rstrip()][-TAIL_LINES:]
        if process.returncode != 0:
            raise ChaliceError(
                f"'{' '.join(['chalice', *args])}' failed (exit {process.returncode}): "
                + " | ".join(line for line in tail if line)
            )

    def deploy(self, stage: str, env: Mapping[str, str]) -> None:
        self._run(["deploy", "--stage", stage], env)

    def delete(self, stage: str, env: Mapping[str, str]) -> None:
        self._run(["delete", "--stage", stage], env)
