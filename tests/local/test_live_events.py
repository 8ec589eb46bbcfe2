"""Live event lines, ``wsgate logs`` and ``wsgate token``, with two stacks in one folder.

Two ``wsgate local`` run side by side from the same folder, told apart by ``--name``: ``chat``
prints event lines as text, ``jsonout`` with ``--log-format json``. Users get their tokens from
``wsgate token`` as a developer would, and chat over real WebSockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from shared.routes import ROUTES
from tests.local.conftest import RunningStack, stop_local
from tests.local.named_stacks import start_named, token_for, wait_for_output, wsgate

WSCAT = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "wscat"
LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (?P<kind>[a-z_]+) +(?P<cid>\S+) ?(?P<rest>.*)$")
ROUTE_KEYS = {route.key for route in ROUTES}
JOIN, SEND = "joinroom", "sendmessage"
RECEIVE_TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, RunningStack]]]:
    assert {JOIN, SEND} <= ROUTE_KEYS
    where = tmp_path_factory.mktemp("two-stacks")
    stacks: dict[str, RunningStack] = {}
    try:
        stacks["chat"] = start_named(where, "chat", "--seed-users=alice")
        stacks["jsonout"] = start_named(where, "jsonout", "--log-format=json")
        yield where, stacks
    finally:
        for stack in stacks.values():
            stop_local(stack)


async def _frame(client: ClientConnection, kind: str) -> dict[str, object]:
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        while True:
            frame = json.loads(await client.recv())
            if frame.get("type") == kind:
                return dict(frame)


async def _chat(url: str, tokens: dict[str, str], room: str) -> None:
    """Everyone joins ``room``, the first user says hello, everyone receives it, all close."""
    clients = [
        await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
        for token in tokens.values()
    ]
    try:
        for client in clients:
            await client.send(json.dumps({"action": JOIN, "roomname": room}))
            await _frame(client, "joined")
        await clients[0].send(json.dumps({"action": SEND, "message": f"hello {room}"}))
        for client in clients:
            assert (await _frame(client, "message"))["message"] == f"hello {room}"
    finally:
        for client in clients:
            await client.close(1000, "bye")


def _event_lines(text: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in text.splitlines() if (m := LINE.match(line))]


def _disconnects(count: int) -> Callable[[str], bool]:
    return lambda text: sum(e["kind"] == "disconnect" for e in _event_lines(text)) >= count


async def test_terminal_shows_connect_route_integration_push_disconnect_for_both_users(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, stacks = folder
    chat = stacks["chat"]
    tokens = {user: token_for(where, user, "--stack", "chat") for user in ("alice", "bob")}
    await _chat(chat.facts["websocketUrl"], tokens, "lobby")
    output = await asyncio.to_thread(wait_for_output, chat, _disconnects(2))
    assert "\x1b[" not in output, "coloured although the output is not a terminal"
    events = _event_lines(output)
    connects = {e["rest"].split()[0]: e for e in events if e["kind"] == "connect"}
    assert set(connects) == {"alice", "bob"}
    for user, connect_line in connects.items():
        assert connect_line["rest"] == f"{user} key from authorizer status 101"
        mine = [e for e in events if e["cid"] == connect_line["cid"]]
        kinds = [e["kind"] for e in mine]
        assert {"connect", "route", "integration", "disconnect"} <= set(kinds), kinds
        assert kinds[0] == "connect" and kinds[-1] == "disconnect"
        routes = [e["rest"] for e in mine if e["kind"] == "route"]
        assert any(f"{user} -> {JOIN} " in rest for rest in routes), routes
        integrations = [e["rest"] for e in mine if e["kind"] == "integration"]
        assert any(re.search(rf"-> {JOIN} status 200 [\d.]+ ms$", r) for r in integrations)
        # The client's close code and reason, as $context.disconnectStatusCode/disconnectReason
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/
        # apigateway-websocket-api-mapping-template-reference.html).
        assert [e["rest"] for e in mine if e["kind"] == "disconnect"] == [f"{user} code 1000 bye"]
    bob = connects["bob"]["cid"]
    assert any(e["kind"] == "push" and e["cid"] == bob for e in events), "no @connections push"


def test_logs_filters_one_connection_s_route(folder: tuple[Path, dict[str, RunningStack]]) -> None:
    where, _ = folder
    everything = wsgate(where, "logs", "--name", "chat")
    assert everything.returncode == 0, everything.stderr
    alice = next(
        e["cid"]
        for e in _event_lines(everything.stdout)
        if e["kind"] == "connect" and e["rest"].startswith("alice ")
    )
    done = wsgate(where, "logs", "--name", "chat", "--connection", alice, "--route", SEND)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    events = _event_lines(done.stdout)
    assert len(events) == len(lines) >= 2
    assert {e["kind"] for e in events} == {"route", "integration"}
    assert all(e["cid"] == alice and f"-> {SEND} " in e["rest"] for e in events)
    assert len(_event_lines(everything.stdout)) > len(lines)

    recent = wsgate(where, "logs", "--name", "chat", "--since", "10m", "--log-format", "json")
    parsed = [json.loads(line) for line in recent.stdout.splitlines()]
    assert len(parsed) == len(_event_lines(everything.stdout))
    bad = wsgate(where, "logs", "--name", "chat", "--since", "five minutes")
    assert bad.returncode == 2 and "30s, 5m" in bad.stderr and "Traceback" not in bad.stderr


async def test_json_log_format_prints_one_parsable_event_per_line(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, stacks = folder
    jsonout = stacks["jsonout"]
    token = token_for(where, "dana", "--stack", "jsonout")
    await _chat(jsonout.facts["websocketUrl"], {"dana": token}, "json")

    def ended(text: str) -> bool:
        return '"kind":"disconnect"' in text

    output = await asyncio.to_thread(wait_for_output, jsonout, ended)
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"connect", "route", "integration", "disconnect"} <= {e["kind"] for e in events}
    assert all(e["user"] == "dana" for e in events if e["kind"] in ("connect", "integration"))
    assert not _event_lines(output), "text event lines printed with --log-format json"


async def test_commands_pick_the_stack_named_and_refuse_to_guess(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, stacks = folder
    for args in (("token", "--user", "bob"), ("logs",), ("connect", "--user", "bob")):
        done = wsgate(where, *args)
        assert done.returncode == 1, done
        message = done.stderr.strip()
        assert len(message.splitlines()) == 1 and "(chat, jsonout)" in message, message
    assert "pass --stack" in wsgate(where, "token", "--user", "bob").stderr
    token = token_for(where, "erin", "--stack", "jsonout")
    async with connect(
        stacks["jsonout"].facts["websocketUrl"],
        additional_headers={"Authorization": f"Bearer {token}"},
    ):
        pass
    # Another stack signs with another secret: its authorizer returns a Deny policy, which API
    # Gateway answers with 403 (https://docs.aws.amazon.com/apigateway/latest/developerguide/
    # apigateway-use-lambda-authorizer.html; reference notes, "$connect" failures).
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(
            stacks["chat"].facts["websocketUrl"],
            additional_headers={"Authorization": f"Bearer {token}"},
        ):
            pass
    assert refused.value.response.status_code == 403


def test_token_options_for_aws_are_refused_for_a_local_stack(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, _ = folder
    done = wsgate(where, "token", "--user", "bob", "--stack", "chat", "--ttl", "60")
    assert done.returncode == 2 and "--ttl apply to AWS tokens" in done.stderr


@pytest.mark.skipif(
    not WSCAT.exists() or shutil.which("node") is None,
    reason="wscat is not installed (make test installs it with npm; Node.js/npm not found)",
)
def test_the_printed_wscat_command_connects_and_joins(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, _ = folder
    done = wsgate(where, "token", "--user", "bob", "--stack", "chat", "--wscat")
    assert done.returncode == 0, done.stderr
    argv = shlex.split(done.stdout)
    assert argv[:2] == ["npx", "wscat"]
    join = json.dumps({"action": JOIN, "roomname": "wscat"})
    argv = [str(WSCAT), "--no-color", *argv[2:], "-x", join, "-w", "2"]
    sleeper = subprocess.Popen(["sleep", "5"], stdout=subprocess.PIPE)
    try:
        ran = subprocess.run(argv, stdin=sleeper.stdout, capture_output=True, text=True, timeout=30)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert '"type":"joined"' in ran.stdout.replace(" ", ""), (ran.stdout, ran.stderr)
    assert '"user":"bob"' in ran.stdout.replace(" ", "")


def test_logs_follow_prints_new_events_as_they_happen(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, stacks = folder
    argv = [sys.executable, "-m", "wsgate.cli", "logs", "--follow", "--name", "chat"]
    follower = subprocess.Popen(
        [*argv, "--route", "$connect"], cwd=where, stdout=subprocess.PIPE, text=True
    )
    stdout = follower.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
    reader.start()
    try:
        token = token_for(where, "frank", "--stack", "chat")
        asyncio.run(_chat(stacks["chat"].facts["websocketUrl"], {"frank": token}, "followed"))
        deadline = time.monotonic() + 30
        while not any(" frank key from authorizer status 101" in line for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.2)
    finally:
        follower.terminate()
        follower.wait(10)
        reader.join(10)
    kinds = {e["kind"] for e in _event_lines("".join(lines))}
    assert "connect" in kinds and kinds <= {"connect", "connect_refused"}, lines


async def test_stopping_one_stack_leaves_the_other_s_facts_and_logs(
    folder: tuple[Path, dict[str, RunningStack]],
) -> None:
    where, stacks = folder
    chat, jsonout = stacks["chat"], stacks["jsonout"]
    chat_facts = (chat.state_dir / "local.json").read_text()
    chat_events = (chat.state_dir / "events.jsonl").read_text()
    stop_local(jsonout)
    assert not (jsonout.state_dir / "local.json").exists()
    assert '"kind":"disconnect"' in (jsonout.state_dir / "events.jsonl").read_text()
    assert (jsonout.state_dir / "logs" / "gateway.log").exists()
    assert (chat.state_dir / "local.json").read_text() == chat_facts
    assert (chat.state_dir / "events.jsonl").read_text().startswith(chat_events)
    # With one stack left, commands find it without a name; it still serves.
    token = token_for(where, "carol")
    await _chat(chat.facts["websocketUrl"], {"carol": token}, "after")
    stopped = wsgate(where, "logs", "--name", "jsonout", "--route", "$connect")
    assert stopped.returncode == 0 and "dana" in stopped.stdout
