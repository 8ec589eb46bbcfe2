"""``wsgate invoke`` against a running ``wsgate local``: the ops function, run in-process with
the environment the gateway's Lambda workers get, pushes through the local ``@connections``
to real sockets and reads moto's table and usage plan."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chalice_app.chalicelib.ops import RESUME_START
from shared.connections_table import PARTITION_KEY, USER_ATTRIBUTE
from shared.names import StackNames
from tests.local.conftest import RunningStack
from wsgate.local.stack_options import STACK_NAME

RECEIVE_TIMEOUT_S = 15.0


def invoke(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m wsgate invoke ARGS`` for the stack's state directory, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "wsgate", "invoke", f"--state-dir={stack.state_dir}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _frame_of_type(client: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        while True:
            frame: dict[str, Any] = json.loads(await client.recv())
            if frame.get("type") == kind:
                return frame


async def _join(client: ClientConnection, room: str) -> None:
    await client.send(json.dumps({"action": "joinroom", "roomname": room}))
    await _frame_of_type(client, "joined")


def _connection_of(stack: RunningStack, user: str) -> str:
    items = stack.table().scan()["Items"]
    (connection_id,) = [item[PARTITION_KEY] for item in items if item[USER_ATTRIBUTE] == user]
    return str(connection_id)


async def test_broadcast_reaches_both_users_and_kick_closes_one(chat_stack: RunningStack) -> None:
    url = chat_stack.facts["websocketUrl"]

    def headers(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {chat_stack.token(user)}"}

    async with (
        connect(url, additional_headers=headers("alice")) as alice,
        connect(url, additional_headers=headers("bob")) as bob,
    ):
        await _join(alice, "invoke-room")
        await _join(bob, "invoke-room")
        done = await asyncio.to_thread(
            invoke, chat_stack, "ops", '{"action":"broadcast","message":"hi"}'
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["delivered"] >= 2
        for client in (alice, bob):
            frame = await _frame_of_type(client, "broadcast")
            assert (frame["message"], frame["from"]) == ("hi", "ops")

        bob_id = await asyncio.to_thread(_connection_of, chat_stack, "bob")
        kicked = await asyncio.to_thread(
            invoke, chat_stack, "ops", json.dumps({"action": "kick", "connectionId": bob_id})
        )
        assert kicked.returncode == 0, kicked.stderr
        assert json.loads(kicked.stdout) == {"connectionId": bob_id, "closed": True}
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            try:
                while True:
                    await bob.recv()
            except ConnectionClosed:
                pass
        await alice.send(json.dumps({"action": "sendmessage", "message": "still here"}))
        assert (await _frame_of_type(alice, "message"))["message"] == "still here"


def test_issue_api_key_is_idempotent_against_moto(chat_stack: RunningStack) -> None:
    """The seeded user already has a key (minted with their token): the same one comes back."""
    first = invoke(chat_stack, "ops", '{"action":"issue_api_key","user":"carol"}')
    assert first.returncode == 0, first.stderr
    again = invoke(chat_stack, "ops", '{"action":"issue_api_key","user":"carol"}')
    key, same = json.loads(first.stdout), json.loads(again.stdout)
    assert (key["name"], same["id"], same["created"]) == (
        StackNames(STACK_NAME, chat_stack.facts["stage"]).user_api_key_name("carol"),
        key["id"],
        False,
    )


def test_route_function_gets_the_gateways_proxy_event(chat_stack: RunningStack) -> None:
    """listrooms runs as a Lambda route: its proxy response carries the rooms it scanned."""
    done = invoke(chat_stack, "listrooms", '{"action":"listrooms"}')
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["type"] == "rooms"


def test_scheduled_prune_runs_and_keeps_its_position(chat_stack: RunningStack) -> None:
    done = invoke(chat_stack, "prune")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["complete"] is True
    ssm = chat_stack.aws_client("ssm", "ssmEndpoint")
    names = StackNames(STACK_NAME, chat_stack.facts["stage"])
    stored = ssm.get_parameter(Name=names.prune_resume_parameter)["Parameter"]["Value"]
    assert stored == RESUME_START


async def test_usage_shows_the_gateways_count_of_a_users_connects(chat_stack: RunningStack) -> None:
    """Locally ``usage`` reads the gateway's counters (moto has no GetUsage): a connect of
    carol's is counted against carol's own key."""
    issued = await asyncio.to_thread(
        invoke, chat_stack, "ops", '{"action":"issue_api_key","user":"carol"}'
    )
    suffix = json.loads(issued.stdout)["value"][-4:]

    def used() -> int:
        done = invoke(chat_stack, "ops", '{"action":"usage"}')
        assert done.returncode == 0, done.stderr
        assert "GetUsage" in done.stderr
        (plan,) = json.loads(done.stdout)["usagePlans"]
        counts = [key["quotaUsed"] for key in plan["keys"] if key["key"].endswith(suffix)]
        return counts[0] if counts else 0

    before = await asyncio.to_thread(used)
    headers = {"Authorization": f"Bearer {chat_stack.token('carol')}"}
    async with connect(chat_stack.facts["websocketUrl"], additional_headers=headers):
        pass
    assert await asyncio.to_thread(used) == before + 1
