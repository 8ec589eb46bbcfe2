"""``wsgate local --reload``: edits reach the running stack while the same WebSocket stays open.

The stack runs a copy of the project's packages (``PYTHONPATH`` puts the copy first, so the
stack, its children and its watcher all use the copy): the tests edit the copy, never the
repository. Each test measures from the file write to the first answer given by the new
code, on a connection opened before the edit, and checks that the connection id never changed
and the socket never closed. Edits are undone at the end of each test (and waited for).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from shared.client_messages import MAX_MESSAGE_CHARS
from shared.routes import ROUTES
from tests.local.conftest import RunningStack, start_local, stop_local
from tests.local.supervision_helpers import current_facts, kill_and_wait_for_restart
from wsgate.local.reload_plan import PACKAGE_PLANS

RELOAD_LIMIT_S = 2.0
"""The promise: from the write to the first answer by the new code, on a machine with a core
to spare (see ``_limit``)."""
WAIT_S = 30.0
"""How long a test waits for something that should take well under RELOAD_LIMIT_S, so a
loaded machine produces a failed timing assertion with its figure, not a hang."""
REPO = Path(__file__).resolve().parents[2]
UNROUTED = {"hello": "no action field"}
"""Selects no route key (the selection expression reads ``action``): ``$default`` answers."""
MEASURED: dict[str, float] = {}
WRITES = [0]
"""Edits written so far: each is one batch for the watcher, hence one reload line."""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages the stack runs and watches (those of ``PACKAGE_PLANS``); the
    ``wsgate`` tools still come from the repository."""
    root = tmp_path_factory.mktemp("project")
    for package in PACKAGE_PLANS:
        shutil.copytree(
            REPO / package,
            root / package,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "deployed"),
        )
    return root


@pytest.fixture(scope="module")
def stack(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with pytest.MonkeyPatch.context() as patch:
        # ``python -m`` puts the working directory first on sys.path, then PYTHONPATH.
        patch.chdir(project)
        patch.setenv("PYTHONPATH", str(project))
        running = start_local(tmp_path_factory.mktemp("reload"), "--reload")
    try:
        yield running
    finally:
        current_facts(running)
        stop_local(running)
        print(f"\nreload timings (write -> first answer by the new code): {MEASURED}")


class Edit:
    """Replace text in a file of the copy; ``undo`` puts the original back."""

    def __init__(self, path: Path, old: str, new: str) -> None:
        self.path, self.original = path, path.read_text()
        assert old in self.original, f"{old!r} is no longer in {path}: update this test"
        self.changed = self.original.replace(old, new, 1)

    def apply(self) -> float:
        WRITES[0] += 1
        started = time.monotonic()
        self.path.write_text(self.changed)
        return started

    def undo(self) -> float:
        WRITES[0] += 1
        started = time.monotonic()
        self.path.write_text(self.original)
        return started


def _limit() -> float:
    """``RELOAD_LIMIT_S`` unless more work is queued than there are cores (a shared CI box
    running several suites): then proportionally more, so the figure is reported, not flaky."""
    overload = os.getloadavg()[0] / (os.cpu_count() or 1)
    MEASURED["load per core"] = round(overload, 2)
    return RELOAD_LIMIT_S * max(1.0, overload)


def _headers(stack: RunningStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('alice')}"}


async def _ask(client: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send one message and read its one answer (the routes used here all answer)."""
    await client.send(json.dumps(message))
    async with asyncio.timeout(WAIT_S):
        answer: dict[str, Any] = json.loads(await client.recv())
    return answer


async def _until(
    client: ClientConnection,
    message: dict[str, Any],
    is_new: Callable[[dict[str, Any]], bool],
    started: float,
) -> tuple[float, dict[str, Any], list[dict[str, Any]]]:
    """Ask until an answer comes from the new code; (seconds since ``started``, that answer,
    every answer before it). Each message gets its answer before the next is sent."""
    before: list[dict[str, Any]] = []
    while time.monotonic() - started < WAIT_S:
        answer = await _ask(client, message)
        if is_new(answer):
            return time.monotonic() - started, answer, before
        before.append(answer)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the new code never answered; last answers: {before[-3:]}")


def _connection_id(answer: dict[str, Any]) -> str:
    return str(answer["connectionId"])


async def _open_id(client: ClientConnection) -> str:
    """The connection id, read from API Gateway's error frame for an invalid body."""
    invalid = _ask(client, {"action": _validated_route().key})
    return _connection_id(await invalid)


def _validated_route() -> Any:
    return next(r for r in ROUTES if r.client_model is not None and r.fields)


def _old_answers_only(answers: list[dict[str, Any]], old: Callable[[dict[str, Any]], bool]) -> None:
    """Before the switch every answer is the old code's or API Gateway's error frame."""
    for answer in answers:
        assert old(answer) or answer.get("message") == "Internal server error", answer


def _reload_lines(stack: RunningStack) -> list[str]:
    prefixes = ("wsgate local: reloaded ", "wsgate local: reload failed")
    return [line for line in stack.output().splitlines() if line.startswith(prefixes)]


def _lines_when_settled(stack: RunningStack) -> list[str]:
    deadline = time.monotonic() + WAIT_S
    while len(lines := _reload_lines(stack)) < WRITES[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(lines) == WRITES[0], f"{WRITES[0]} edits, reload lines: {lines}"
    return lines


async def _settled(stack: RunningStack) -> list[str]:
    """The reload lines once every edit written so far has been applied (one line each)."""
    return await asyncio.to_thread(_lines_when_settled, stack)


async def test_a_service_edit_answers_on_the_same_connection(
    stack: RunningStack, project: Path
) -> None:
    """(a) ``ec2_service`` only: the service is replaced, the gateway and the socket stay."""
    await _settled(stack)
    old_pid = int(current_facts(stack)["pids"]["service"])
    marker = f"reloaded-{time.time_ns()}"
    edit = Edit(
        project / "ec2_service" / "handlers.py",
        "HELP_FRAME = frames.help_frame()",
        f'HELP_FRAME = b\'{{"type":"help","marker":"{marker}"}}\'',
    )
    async with connect(stack.facts["websocketUrl"], additional_headers=_headers(stack)) as alice:
        connection_id = await _open_id(alice)
        assert (await _ask(alice, UNROUTED))["type"] == "help"
        elapsed, _, before = await _until(
            alice, UNROUTED, lambda a: a.get("marker") == marker, edit.apply()
        )
        _old_answers_only(before, lambda a: a.get("type") == "help" and "marker" not in a)
        assert await _open_id(alice) == connection_id
        _, restored, _ = await _until(alice, UNROUTED, lambda a: "marker" not in a, edit.undo())
        assert restored["type"] == "help"
        assert await _open_id(alice) == connection_id
    MEASURED["service edit"] = round(elapsed, 2)
    await _settled(stack)
    assert elapsed < _limit(), f"new code answered {elapsed:.2f}s after the write"
    facts = current_facts(stack)
    assert int(facts["pids"]["service"]) != old_pid  # local.json names the process serving
    output = stack.output()
    assert "restarting in" not in output, "a reload was counted as a crash"
    assert "Traceback" not in output


async def test_a_model_edit_is_enforced_by_the_gateway_on_the_same_connection(
    stack: RunningStack, project: Path
) -> None:
    """(b) ``shared``: the template is synthesized again and the gateway validates with it."""
    route = next(r for r in ROUTES if r.key == "sendmessage")
    assert route.client_model is not None and "message" in route.fields
    long_enough = "x" * 10
    message = {"action": route.key, "message": long_enough}
    edit = Edit(
        project / "shared" / "client_messages.py",
        f"MAX_MESSAGE_CHARS = {MAX_MESSAGE_CHARS}",
        f"MAX_MESSAGE_CHARS = {len(long_enough) - 1}",
    )
    invalid = "Invalid request body"
    await _settled(stack)
    async with connect(stack.facts["websocketUrl"], additional_headers=_headers(stack)) as alice:
        connection_id = await _open_id(alice)
        first = await _ask(alice, message)  # valid today: the service answers (no room yet)
        assert first.get("message") != invalid
        elapsed, answer, before = await _until(
            alice, message, lambda a: a.get("message") == invalid, edit.apply()
        )
        assert _connection_id(answer) == connection_id
        _old_answers_only(before, lambda a: a.get("message") != invalid)
        await _until(alice, message, lambda a: a.get("message") != invalid, edit.undo())
        assert await _open_id(alice) == connection_id
    MEASURED["model edit"] = round(elapsed, 2)
    assert elapsed < _limit(), f"the gateway enforced the model {elapsed:.2f}s after"
    assert "template and gateway API" in (await _settled(stack))[-1]


async def test_a_syntax_error_keeps_the_stack_serving_and_fixing_it_recovers(
    stack: RunningStack, project: Path
) -> None:
    """(c) A broken edit is one terminal line; the previous service answers until it is fixed."""
    handlers = project / "ec2_service" / "handlers.py"
    broken = Edit(handlers, "HELP_FRAME = frames.help_frame()", "HELP_FRAME = frames.help_frame(")
    marker = f"fixed-{time.time_ns()}"
    fixed = Edit(
        handlers,
        "HELP_FRAME = frames.help_frame()",
        f'HELP_FRAME = b\'{{"type":"help","marker":"{marker}"}}\'',
    )
    lines_before = len(await _settled(stack))
    pid_before = int(current_facts(stack)["pids"]["service"])
    async with connect(stack.facts["websocketUrl"], additional_headers=_headers(stack)) as alice:
        connection_id = await _open_id(alice)
        broken.apply()
        failure = (await _settled(stack))[-1]
        assert failure.startswith("wsgate local: reload failed after ec2_service/handlers.py")
        assert "SyntaxError" in failure and "handlers.py:" in failure
        assert failure.endswith("still serving the previous version")
        for _ in range(3):  # the previous version answers, on the same socket
            assert (await _ask(alice, UNROUTED))["type"] == "help"
        assert int(current_facts(stack)["pids"]["service"]) == pid_before
        elapsed, _, _ = await _until(
            alice, UNROUTED, lambda a: a.get("marker") == marker, fixed.apply()
        )
        assert await _open_id(alice) == connection_id
        await _until(alice, UNROUTED, lambda a: "marker" not in a, fixed.undo())
    MEASURED["fix after a syntax error"] = round(elapsed, 2)
    assert elapsed < _limit(), f"the fixed code answered {elapsed:.2f}s after the write"
    new_lines = (await _settled(stack))[lines_before:]
    assert sum("reload failed" in line for line in new_lines) == 1, new_lines
    assert "Traceback" not in stack.output()


async def test_an_authorizer_edit_applies_to_the_next_connect_only(
    stack: RunningStack, project: Path
) -> None:
    """``chalice_app``: the gateway imports the authorizer again; open sockets are untouched."""
    url, headers = stack.facts["websocketUrl"], _headers(stack)
    edit = Edit(
        project / "chalice_app" / "chalicelib" / "authorizer_handler.py",
        "return authorize(event, default_ring())",
        'raise Exception("Unauthorized")',
    )
    await _settled(stack)
    async with connect(url, additional_headers=headers) as alice:
        connection_id = await _open_id(alice)
        edit.apply()
        assert "Lambda code reloaded" in (await _settled(stack))[-1]
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
        assert await _open_id(alice) == connection_id
        edit.undo()
        await _settled(stack)
        async with connect(url, additional_headers=headers) as again:
            assert (await _ask(again, UNROUTED))["type"] == "help"


async def test_every_message_sent_during_a_service_replacement_is_answered(
    stack: RunningStack, project: Path
) -> None:
    """Messages keep flowing while the service is replaced: each gets one answer, from the
    old code, the new code or (an integration cut by the old process stopping) API Gateway's
    ``Internal server error`` frame; the socket never closes."""
    await _settled(stack)
    marker = f"busy-{time.time_ns()}"
    edit = Edit(
        project / "ec2_service" / "handlers.py",
        "HELP_FRAME = frames.help_frame()",
        f'HELP_FRAME = b\'{{"type":"help","marker":"{marker}"}}\'',
    )
    answers: list[dict[str, Any]] = []
    async with connect(stack.facts["websocketUrl"], additional_headers=_headers(stack)) as alice:

        async def read(count: int) -> None:
            async with asyncio.timeout(WAIT_S):
                while len(answers) < count:
                    answers.append(json.loads(await alice.recv()))

        sent = 0
        started = edit.apply()
        while not any(a.get("marker") == marker for a in answers):
            assert time.monotonic() - started < WAIT_S, "the new code never answered"
            for _ in range(5):  # five in flight at once, as a busy client would
                await alice.send(json.dumps(UNROUTED))
                sent += 1
            await read(sent)
        edit.undo()
        await _settled(stack)
    errors = [a for a in answers if a.get("type") != "help"]
    assert all(a.get("message") == "Internal server error" for a in errors), errors
    MEASURED["error frames during a replacement"] = len(errors)
    MEASURED["messages during a replacement"] = sent


async def test_a_burst_of_writes_is_one_reload(stack: RunningStack, project: Path) -> None:
    """Editors write a file several times when saving: one reload, not one per write."""
    lines_before = len(await _settled(stack))
    handlers = project / "ec2_service" / "handlers.py"
    original = handlers.read_text()
    for n in range(3):
        handlers.write_text(original + f"\n# saved {n}\n")
        await asyncio.sleep(0.02)
    WRITES[0] += 1
    await _settled(stack)
    await asyncio.sleep(3.0)  # a second reload for the same burst would have printed by now
    assert len(lines := _reload_lines(stack)) == lines_before + 1, lines[lines_before:]
    handlers.write_text(original)
    WRITES[0] += 1
    await _settled(stack)


async def test_a_crash_restart_keeps_the_socket_and_reloads_go_on(
    stack: RunningStack, project: Path
) -> None:
    """The watchdog restarts a killed service on the same inherited socket (requests wait in
    its backlog meanwhile), and the next edit still replaces the restarted process."""
    await _settled(stack)
    marker = f"after-crash-{time.time_ns()}"
    edit = Edit(
        project / "ec2_service" / "handlers.py",
        "HELP_FRAME = frames.help_frame()",
        f'HELP_FRAME = b\'{{"type":"help","marker":"{marker}"}}\'',
    )
    async with connect(stack.facts["websocketUrl"], additional_headers=_headers(stack)) as alice:
        connection_id = await _open_id(alice)
        restarted = await asyncio.to_thread(kill_and_wait_for_restart, stack, "service")
        await _until(alice, UNROUTED, lambda a: a.get("type") == "help", time.monotonic())
        await _until(alice, UNROUTED, lambda a: a.get("marker") == marker, edit.apply())
        await _settled(stack)  # local.json is rewritten before the reload line is printed
        assert int(current_facts(stack)["pids"]["service"]) != restarted
        edit.undo()
        await _settled(stack)
        assert await _open_id(alice) == connection_id
    assert f"wsgate local: service is back (pid {restarted})" in stack.output()
