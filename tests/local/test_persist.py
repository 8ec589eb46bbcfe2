"""``wsgate local --persist``: the store survives a moto crash and a restart of the whole stack.

The mechanism is moto's own recorder (every request appended to a file, replayed on start;
http://docs.getmoto.org/en/latest/docs/configuration/recorder/index.html), compacted to the
writes before each replay.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr
from websockets.asyncio.client import connect

from shared.connections_table import PARTITION_KEY, ROOM_ATTRIBUTE
from tests.local.conftest import RunningStack, start_local, stop_local
from tests.local.supervision_helpers import (
    current_facts,
    join,
    kill_and_wait_for_restart,
    message_frames,
    say,
)
from wsgate.local.moto_process import RECORDING_FILE

KEPT_PARAMETER = "/wsgate-test/kept"


def _room_members(stack: RunningStack, room: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.table().scan(FilterExpression=Attr("room").eq(room))[
        "Items"
    ]
    return items


async def test_records_survive_a_moto_crash_and_a_stack_restart(tmp_path: Path) -> None:
    stack = start_local(tmp_path, "--persist", "--seed-users=alice,bob")
    try:
        url = stack.facts["websocketUrl"]
        headers = {u: {"Authorization": f"Bearer {stack.token(u)}"} for u in ("alice", "bob")}
        ssm = stack.aws_client("ssm", "ssmEndpoint")
        ssm.put_parameter(Name=KEPT_PARAMETER, Value="still here", Type="String")
        async with (
            connect(url, additional_headers=headers["alice"]) as alice,
            connect(url, additional_headers=headers["bob"]) as bob,
        ):
            await join(alice, "keepers")
            await join(bob, "keepers")
            before = _room_members(stack, "keepers")
            assert len(before) == 2

            await asyncio.to_thread(kill_and_wait_for_restart, stack, "moto")
            assert _room_members(stack, "keepers") == before
            # The records are what the service reads: the members keep chatting.
            await say(alice, "we were remembered")
            for client in (alice, bob):
                await message_frames(client, "we were remembered")
        # Nothing to replay at first; then at least the table, its TTL, ours, two connects and
        # two joins, besides what provisioning writes (parameters, secret, usage plan).
        replays = [int(n) for n in re.findall(r"replayed (\d+) recorded writes", stack.log("moto"))]
        assert replays[0] == 0 and len(replays) == 2 and replays[1] >= 7, replays
        # A record written after the crash is recorded by the new moto as well.
        stack.table().put_item(Item={PARTITION_KEY: "kept-record", ROOM_ATTRIBUTE: "archive"})
    finally:
        current_facts(stack)
        stop_local(stack)

    recording = tmp_path / RECORDING_FILE
    assert recording.exists()
    restarted = start_local(tmp_path, "--persist")
    try:
        ssm = restarted.aws_client("ssm", "ssmEndpoint")
        assert ssm.get_parameter(Name=KEPT_PARAMETER)["Parameter"]["Value"] == "still here"
        assert [i[PARTITION_KEY] for i in _room_members(restarted, "archive")] == ["kept-record"]
        # Disconnects are writes too: the members who left are not resurrected.
        assert _room_members(restarted, "keepers") == []
        log = restarted.log("moto")
    finally:
        stop_local(restarted)
    # The reads of the first run were compacted away before the replay.
    kept, dropped = re.findall(r"replayed (\d+) recorded writes \((\d+) reads dropped", log)[0]
    assert int(kept) >= 11 and int(dropped) > 0
