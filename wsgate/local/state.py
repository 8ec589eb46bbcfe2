"""Where each local stack keeps its state, and finding the one a command should talk to.

Every ``wsgate local`` owns one directory, ``.wsgate/<name>/`` (``--name``, default
``wsgate-local``; ``--state-dir DIR`` puts it exactly at DIR instead): ``local.json`` (its facts,
present only while it runs), ``events.jsonl`` (the gateway's events), ``logs/`` and the
template. Two stacks in one folder therefore never write each other's files.

Every command that talks to a running stack (``wsgate connect``, ``token``, ``logs``,
``invoke``) finds it with :func:`find_stack`, so they all agree on which one that is and
fail with the same one-line messages.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_ROOT = Path(".wsgate")
DEFAULT_NAME = "wsgate-local"
"""The local stack's ``AWS::StackName``, so a lone stack lives in ``.wsgate/wsgate-local/``."""
FACTS_FILE = "local.json"
EVENTS_FILE = "events.jsonl"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class StackStateError(Exception):
    """No stack, several stacks, or a name already taken: one sentence saying what to do."""


@dataclass(frozen=True)
class StackState:
    """A stack's directory and, while it runs, its facts (``local.json``)."""

    name: str
    path: Path
    facts: dict[str, Any]

    @property
    def events_file(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def websocket_url(self) -> str:
        return str(self.facts["websocketUrl"])

    @property
    def console_url(self) -> str:
        return str(self.facts["consoleUrl"])

    @property
    def api_key(self) -> str:
        return str(self.facts["apiKey"])

    def wscat_command(self, token: str) -> str:
        """The ready-to-paste command connecting to this stack with ``token``.

        The ``x-api-key`` header is what a stack with ``--api-key-source header`` checks; with
        the default (the key in the token) it is ignored, so one command fits both.
        """
        return shlex.join(
            [
                "npx",
                "wscat",
                "-c",
                self.websocket_url,
                "-H",
                f"authorization:Bearer {token}",
                "-H",
                f"x-api-key:{self.api_key}",
            ]
        )


def check_name(name: str) -> str:
    """A stack name is a directory name: letters, digits, ``_ . -``, at most 63 characters."""
    if not NAME_PATTERN.match(name):
        raise StackStateError(
            f"stack name {name!r} must be 1-63 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit)"
        )
    return name


def state_dir_for(name: str, root: Path = STATE_ROOT) -> Path:
    return root / check_name(name)


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_running(path: Path) -> StackState | None:
    """The stack whose state is in ``path`` if it runs: ``local.json`` exists and its gateway
    (which stops the stack when it dies) is alive, so a ``kill -9`` leaves no phantom stack."""
    try:
        facts = json.loads((path / FACTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(facts, dict) or not _pid_alive(facts.get("pids", {}).get("gateway")):
        return None
    return StackState(path.name, path, facts)


def running_stacks(root: Path = STATE_ROOT) -> list[StackState]:
    """The stacks running from this folder, by name."""
    if not root.is_dir():
        return []
    found = (read_running(child) for child in sorted(root.iterdir()) if child.is_dir())
    return [stack for stack in found if stack is not None]


def _not_running(where: str) -> StackStateError:
    return StackStateError(f"no local stack is running {where}: start one with `wsgate local`")


def find_stack(
    name: str | None = None, state_dir: Path | None = None, root: Path = STATE_ROOT
) -> StackState:
    """The running stack a command means: the one at ``state_dir``, the one called ``name``,
    or the only one running here; otherwise a :class:`StackStateError` saying what to pass."""
    if state_dir is not None:
        found = read_running(state_dir)
        if found is None:
            raise _not_running(f"with --state-dir {state_dir}")
        return found
    if name is not None:
        found = read_running(state_dir_for(name, root))
        if found is None:
            others = ", ".join(s.name for s in running_stacks(root)) or "none"
            raise StackStateError(
                f"no local stack named {name!r} is running here (running: {others}); "
                f"start it with `wsgate local --name {name}`"
            )
        return found
    running = running_stacks(root)
    if len(running) == 1:
        return running[0]
    if not running:
        raise _not_running(f"in this folder ({root}/*/{FACTS_FILE})")
    names = ", ".join(stack.name for stack in running)
    raise StackStateError(f"{len(running)} local stacks are running here ({names}): pass --name")


def stack_dir(name: str | None = None, state_dir: Path | None = None) -> Path:
    """A stack's directory whether or not it runs (``wsgate logs`` reads a stopped one's)."""
    if state_dir is not None:
        return state_dir
    if name is not None:
        return state_dir_for(name)
    return find_stack().path


def ensure_unused(path: Path) -> None:
    """Refuse to start a second stack on a directory whose stack still runs."""
    running = read_running(path)
    if running is not None:
        raise StackStateError(
            f"a local stack is already running in {path} ({running.websocket_url}): stop it, "
            "or start this one with another --name"
        )
