"""README's "Two commands" and "The tutorial, done by wsgate", walked command for command.

The commands are read from README.md (fenced ``bash`` blocks and backticked ``wsgate ...`` /
``npx wscat ...`` spans), never copied here, so the README cannot drift from what works. Every
command found must be one this walk knows how to run (or names as AWS-only, with the reason):
a new command in those sections fails the walk until it is run here too. Placeholders are
filled (``HOST``, ``<key>``, the fixed ports become free ones); ``wscat`` lines are replayed
with the websockets client on the same URL and headers (``tests/local/test_wscat.py`` drives
wscat itself). The stack is started the way item 11 says, in a fresh folder, its ports set to
0 through ``WSGATE_LOCAL_*`` variables (which must not reach the service: it refuses unknown
``WSGATE_*`` names at start).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.local.conftest import STARTUP_TIMEOUT_S, RunningStack, stop_local
from wsgate.cli.config import LOCAL_ENV_PREFIX

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TUTORIAL = "## The tutorial, done by wsgate"
TWO_COMMANDS = "## Two commands"
AWS_ONLY = {
    "wsgate synth --from-chalice prod": "reads what `chalice deploy --stage prod` recorded",
    "wsgate token --user bob --remote": "signs with the deployed stack's secret in SSM",
}
"""Commands that need an AWS account, and why; everything else in the sections is run."""
EXAMPLE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-prod-authorizer"


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def items(tutorial: str) -> dict[int, str]:
    """The numbered items of the tutorial section, by number."""
    parts = re.split(r"^(\d+)\. ", tutorial, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def commands(text: str) -> list[str]:
    """Shell commands in ``text``: fenced bash lines, then backticked wsgate/wscat spans."""
    found: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                found.append(command)
    without_blocks = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for span in re.findall(r"`([^`]+)`", without_blocks):
        command = " ".join(span.split())
        # Two words (`wsgate synth`) name a command in prose; a command to run has arguments.
        if command.startswith(("wsgate ", "npx wscat ", "make run ")) and len(command.split()) > 2:
            found.append(command)
    return found


def wsgate(command: str) -> list[str]:
    """``wsgate ...`` as ``python -m wsgate ...`` with this interpreter."""
    argv = shlex.split(command)
    assert argv[0] == "wsgate", command
    return [sys.executable, "-m", "wsgate", *argv[1:]]


def run(cwd: Path, command: str, **replace: str) -> subprocess.CompletedProcess[str]:
    """Run a README command in ``cwd`` with its placeholders filled."""
    for placeholder, value in replace.items():
        command = command.replace(placeholder, value)
    done = subprocess.run(
        wsgate(command), cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done


def free_port() -> int:
    from wsgate.local.processes import free_port as pick

    return pick()


@dataclass
class Walk:
    """The README's text by item, and where the walk runs."""

    items: dict[int, str]
    cwd: Path

    def commands(self, item: int) -> list[str]:
        return commands(self.items[item])

    def one(self, item: int, prefix: str) -> str:
        """The item's one command starting with ``prefix`` that runs locally."""
        (command,) = [c for c in self.commands(item) if c.startswith(prefix) and c not in AWS_ONLY]
        return command


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Walk:
    text = README.read_text()
    return Walk(items(section(text, TUTORIAL)), tmp_path_factory.mktemp("readme"))


def _started(cwd: Path, command: str) -> RunningStack:
    """``wsgate local ...`` as README item 11 writes it, ports picked free through the env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LOCAL_ENV_PREFIX)}
    for port in ("GATEWAY", "SERVICE", "MOTO", "CONSOLE"):
        env[f"{LOCAL_ENV_PREFIX}_{port}_PORT"] = "0"
    output_path = cwd / "wsgate-local.out"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            wsgate(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not (found := sorted((cwd / ".wsgate").glob("**/local.json"))):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{command} did not start:\n{output_path.read_text()}")
        time.sleep(0.2)
    facts = json.loads(found[0].read_text())
    return RunningStack(facts, process, found[0].parent, output_path)


@pytest.fixture(scope="module")
def stack(walk: Walk) -> Iterator[RunningStack]:
    running = _started(walk.cwd, walk.one(11, "wsgate local"))
    try:
        yield running
    finally:
        stop_local(running)


def test_every_command_in_the_walked_sections_is_known(walk: Walk) -> None:
    """A command added to the README must be walked below (or named AWS-only, with why)."""
    walked = {
        2: ("wsgate synth", "wsgate gateway", "npx wscat"),
        3: ("wsgate synth",),
        8: ("wsgate synth --from-chalice prod",),
        11: ("wsgate local",),
        12: ("wsgate token",),
        13: ("wsgate invoke",),
    }
    for number, body in walk.items.items():
        for command in commands(body):
            assert command.startswith(walked.get(number, ())), (number, command)
    assert commands(walk.items[8]) == ["wsgate synth --from-chalice prod"]


def test_two_commands_section() -> None:
    """``make run`` / ``make test`` exist with these names, and the flags it names parse."""
    text = section(README.read_text(), TWO_COMMANDS)
    found = commands(text)
    assert {"make run", "make test"} <= set(found)
    for command in found:
        argv = shlex.split(command)
        if argv[0] == "make":
            done = subprocess.run(
                ["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
    for flags in re.findall(r"`wsgate local (--[^`]+)`", text):
        done = subprocess.run(
            [sys.executable, "-m", "wsgate", "local", *shlex.split(flags), "--show-config"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_item_2_mock_integration(walk: Walk) -> None:
    run(walk.cwd, walk.one(2, "wsgate synth"))
    port = str(free_port())
    served = walk.one(2, "wsgate gateway").replace("--port 3001", f"--port {port}")
    gateway = subprocess.Popen(wsgate(served), cwd=walk.cwd, stderr=subprocess.PIPE, text=True)
    try:
        assert gateway.stderr is not None
        key = ""
        while not key:
            line = gateway.stderr.readline()
            assert line, "the gateway exited before printing its API key"
            if "API key DevApiKey:" in line:
                key = line.rsplit(" ", 1)[1].strip()
        wscat = shlex.split(walk.one(2, "npx wscat").replace(":3001/", f":{port}/"))
        url = wscat[wscat.index("-c") + 1]
        headers = dict(
            wscat[i + 1].replace("<key>", key).split(":", 1)
            for i, arg in enumerate(wscat)
            if arg == "-H"
        )

        async def garbage() -> dict[str, str]:
            async with connect(url, additional_headers=headers) as client:
                await client.send("garbage")
                return dict(json.loads(await asyncio.wait_for(client.recv(), 10)))

        assert asyncio.run(garbage())["routeKey"] == "$default"
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(30)


def test_item_3_http_integration(walk: Walk) -> None:
    done = run(walk.cwd, walk.one(3, "wsgate synth"), HOST="127.0.0.1")
    resources = json.loads(done.stdout)["Resources"].values()
    uris = {
        r["Properties"]["IntegrationUri"]
        for r in resources
        if r["Type"] == "AWS::ApiGatewayV2::Integration"
        and r["Properties"]["IntegrationType"] == "HTTP"
    }
    assert uris and all(uri.startswith("http://127.0.0.1:8080/") for uri in uris)


async def _status(url: str, headers: dict[str, str]) -> int:
    try:
        async with connect(url, additional_headers=headers):
            return 101
    except InvalidStatus as refused:
        return int(refused.response.status_code)


def test_item_10_and_11_validation_and_burst(walk: Walk, stack: RunningStack) -> None:
    """Item 11's stack (burst 2): a third quick connect is 429; item 10's frame is refused."""
    url = stack.facts["websocketUrl"]
    alice = {"Authorization": f"Bearer {stack.token('alice')}"}

    async def burst() -> list[int]:
        # Ten at once: even spread over a second by a loaded machine, the bucket (2, refilled
        # at 5 per second) cannot admit them all.
        return list(await asyncio.gather(*(_status(url, alice) for _ in range(10))))

    statuses = asyncio.run(burst())
    assert 429 in statuses and statuses.count(101) >= 2, statuses
    (frame,) = re.findall(r'`(\{"action":"sendmessage"[^`]*)`', walk.items[10])

    async def invalid() -> dict[str, str]:
        await asyncio.sleep(1.0)  # the burst bucket refills at 5 per second
        async with connect(url, additional_headers=alice) as client:
            await client.send(frame)
            return dict(json.loads(await asyncio.wait_for(client.recv(), 10)))

    assert asyncio.run(invalid())["message"] == "Invalid request body"


def test_item_12_second_user_token(walk: Walk, stack: RunningStack) -> None:
    pytest.importorskip(
        "wsgate.local.state",
        reason="wsgate token finds the running local stack once wsgate/local/state.py lands",
    )
    token = run(walk.cwd, walk.one(12, "wsgate token")).stdout.strip()
    status = asyncio.run(_status(stack.facts["websocketUrl"], {"Authorization": f"Bearer {token}"}))
    assert status == 101


def test_item_13_keys_and_usage_via_invoke(walk: Walk, stack: RunningStack) -> None:
    issue, usage = walk.commands(13)
    issued = json.loads(run(walk.cwd, issue).stdout)
    assert issued["name"].endswith("-user-bob") and issued["value"]
    counters = json.loads(run(walk.cwd, usage).stdout)
    assert counters["usagePlans"][0]["quotaLimit"] > 0
