"""Helpers for tests that kill children of a running ``wsgate local``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.local.conftest import RunningStack

RESTART_TIMEOUT_S = 90.0


def current_facts(stack: RunningStack) -> dict[str, Any]:
    """``local.json`` as it is now: ``wsgate local`` rewrites it after each restart."""
    facts: dict[str, Any] = json.loads((stack.state_dir / "local.json").read_text())
    stack.facts = facts  # so stop_local checks the children that run now
    return facts


def kill_and_wait_for_restart(stack: RunningStack, name: str, signum: int = signal.SIGKILL) -> int:
    """Kill child ``name``; return its new pid once ``wsgate local`` has published it."""
    old = int(current_facts(stack)["pids"][name])
    os.kill(old, signum)
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while time.monotonic() < deadline:
        assert stack.process.poll() is None, f"wsgate local exited:\n{stack.output()}"
        pid = int(current_facts(stack)["pids"][name])
        if pid != old:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"{name} was not restarted:\n{stack.output()}")


async def message_frames(client: ClientConnection, wanted: str, wait_s: float = 15.0) -> Any:
    """Read frames until the chat message ``wanted`` arrives; return it."""
    async with asyncio.timeout(wait_s):
        while True:
            frame = json.loads(await client.recv())
            if frame.get("type") == "message" and frame.get("message") == wanted:
                return frame


async def join(client: ClientConnection, room: str) -> None:
    await client.send(json.dumps({"action": "joinroom", "roomname": room}))
    async with asyncio.timeout(15):
        while True:
            frame = json.loads(await client.recv())
            if frame.get("type") == "joined" and frame.get("room") == room:
                return


async def say(client: ClientConnection, text: str) -> None:
    await client.send(json.dumps({"action": "sendmessage", "message": text}))
