"""``wsgate local`` restarts a crashed service or moto, and its clients never notice the gateway.

Children are killed with SIGKILL, as the kernel's OOM killer or a crash would; the gateway is a
separate child that is not restarted, so the WebSocket connections it holds stay open.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.local.conftest import RunningStack, start_local, stop_local
from tests.local.supervision_helpers import (
    current_facts,
    join,
    kill_and_wait_for_restart,
    message_frames,
    say,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_local(tmp_path_factory.mktemp("supervised"), "--seed-users=alice,bob")
    try:
        yield running
    finally:
        current_facts(running)
        stop_local(running)


def _ready_status(stack: RunningStack) -> int:
    with urllib.request.urlopen(stack.facts["serviceUrl"] + "/ready", timeout=10) as ready:
        return int(ready.status)


def _headers(stack: RunningStack, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(user)}"}


async def test_clients_stay_connected_across_a_service_restart(stack: RunningStack) -> None:
    url = stack.facts["websocketUrl"]
    async with (
        connect(url, additional_headers=_headers(stack, "alice")) as alice,
        connect(url, additional_headers=_headers(stack, "bob")) as bob,
    ):
        await join(alice, "survivors")
        await join(bob, "survivors")
        old_pid = int(current_facts(stack)["pids"]["service"])
        new_pid = await asyncio.to_thread(kill_and_wait_for_restart, stack, "service")

        # Same sockets: a ping answers, and a message sent now reaches both members.
        await asyncio.wait_for(await alice.ping(), 5)
        await asyncio.wait_for(await bob.ping(), 5)
        await say(alice, "after the restart")
        for client in (alice, bob):
            frame = await message_frames(client, "after the restart")
            assert frame["from"] == "alice"
    output = stack.output()
    assert f"wsgate local: service (pid {old_pid}) killed by SIGKILL after" in output
    assert "restarting in 0.5s (restart 1 of at most 5 in a row)" in output
    assert f"wsgate local: service is back (pid {new_pid})" in output
    assert "Traceback" not in output


async def test_moto_comes_back_with_its_table_and_parameters(stack: RunningStack) -> None:
    old_pid = int(current_facts(stack)["pids"]["moto"])
    new_pid = await asyncio.to_thread(kill_and_wait_for_restart, stack, "moto")
    output = stack.output()
    assert f"wsgate local: moto (pid {old_pid}) killed by SIGKILL after" in output
    assert f"wsgate local: moto is back (pid {new_pid})" in output

    # The table and the token secret were created again in the fresh moto ...
    assert stack.table().table_status == "ACTIVE"
    ssm = stack.aws_client("ssm", "ssmEndpoint")
    assert ssm.get_parameter(Name=stack.facts["tokenSecretParameter"], WithDecryption=True)
    # ... but without --persist, nothing written before the crash survives.
    assert stack.table().scan()["Items"] == []
    assert await asyncio.to_thread(_ready_status, stack) == 200, "the service reaches moto"

    # New connections authorize (the secret is back in SSM) and chat through the new store.
    url = stack.facts["websocketUrl"]
    async with (
        connect(url, additional_headers=_headers(stack, "alice")) as alice,
        connect(url, additional_headers=_headers(stack, "bob")) as bob,
    ):
        await join(alice, "second-life")
        await join(bob, "second-life")
        await say(bob, "the store is back")
        for client in (alice, bob):
            await message_frames(client, "the store is back")


def test_a_crash_loop_stops_the_stack_with_a_clear_message(tmp_path: Path) -> None:
    running = start_local(tmp_path, "--max-restarts=1")
    try:
        kill_and_wait_for_restart(running, "service")
        os.kill(int(current_facts(running)["pids"]["service"]), signal.SIGKILL)
        running.process.wait(60)
    finally:
        if running.process.poll() is None:
            running.process.kill()
    output = running.output()
    assert running.process.returncode == 1
    assert "wsgate local: service died 2 times in a row, never staying up 30s" in output
    assert "last: killed by SIGKILL" in output
    assert "Traceback" not in output
    deadline = time.monotonic() + 10
    while (tmp_path / "local.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (tmp_path / "local.json").exists()
    stop_local(running)  # every child, including the restarted ones, is gone
