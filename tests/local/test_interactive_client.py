"""``wsgate connect``: line -> frame and frame -> text as pure functions, then the real command
with its stdin piped, against a running ``wsgate local``."""

from __future__ import annotations

import json
import os
import pty
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from shared.frames import message_frame
from shared.routes import ROUTES
from tests.local.conftest import RunningStack
from wsgate.local.interactive_client import (
    ClientError,
    describe,
    find_stack,
    line_to_frame,
    shortcuts,
)

SINGLE_FIELD_ROUTES = [r for r in ROUTES if not r.is_predefined and len(r.fields) == 1]


@pytest.mark.parametrize("route", SINGLE_FIELD_ROUTES, ids=lambda r: r.key)
def test_every_single_field_route_has_a_shortcut(route: object) -> None:
    key, field = route.key, route.fields[0]  # type: ignore[attr-defined]
    assert json.loads(line_to_frame(f"/{key}  some value ") or "") == {
        "action": key,
        field: "some value",
    }


def test_join_alias_plain_text_and_raw_json() -> None:
    assert json.loads(line_to_frame("/join developers") or "") == {
        "action": "joinroom",
        "roomname": "developers",
    }
    assert json.loads(line_to_frame("hello /join") or "") == {
        "action": "sendmessage",
        "message": "hello /join",
    }
    raw = '{"action": "whatever", "x": [1]}'
    assert line_to_frame(raw) == raw
    assert line_to_frame("   ") is None


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/nope x", "unknown command /nope"),
        ("/join", "needs a roomname"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_lines_are_explained(line: str, says: str) -> None:
    with pytest.raises(ClientError, match=says):
        line_to_frame(line)


def test_shortcut_table_follows_the_route_table() -> None:
    keys = {r.key for r in SINGLE_FIELD_ROUTES}
    assert keys <= set(shortcuts())
    assert {action for action, _ in shortcuts().values()} == keys


def test_frames_are_printed_for_people() -> None:
    line = describe(message_frame("dev", "bob", "hi there", 0).decode())
    assert line.endswith("#dev bob: hi there")
    gateway_error = describe(
        json.dumps({"message": "Forbidden", "connectionId": "c", "requestId": "r"})
    )
    assert gateway_error.endswith("! Forbidden (request id r)")
    assert '"odd": 1' in describe('{"odd": 1}')
    assert describe("not json").endswith("not json")


def test_no_stack_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClientError, match="start one with `wsgate local`"):
        find_stack(tmp_path)


class Client:
    """``wsgate connect`` as a process, its stdout read line by line on a thread."""

    def __init__(self, stack: RunningStack, user: str) -> None:
        argv = [sys.executable, "-m", "wsgate.cli", "connect", "--user", user]
        self.process = subprocess.Popen(
            [*argv, "--state-dir", str(stack.state_dir), "--wait", "0.5"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: [self.lines.put(x) for x in stdout], daemon=True).start()

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def expect(self, text: str, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; got {self.seen}")

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(60)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


def test_piped_session_joins_chats_and_exits_on_end_of_input(chat_stack: RunningStack) -> None:
    client = Client(chat_stack, "dora")
    client.expect("connected to ws://127.0.0.1")
    client.send("/join terminals")
    client.expect("* dora joined terminals")
    client.send("hello from a pipe")
    client.expect("#terminals dora: hello from a pipe")
    client.send('{"action":"sendmessage","message":""}')
    client.expect("! Invalid request body (request id ")
    assert client.process.stdin is not None
    client.process.stdin.close()
    code, errors = client.finish()
    assert code == 0, errors
    assert "bye" in errors and "Traceback" not in errors


def _users_connected(stack: RunningStack) -> list[str]:
    """Users of the gateway's open connections, from its local-only admin surface."""
    base = stack.facts["connectionsUrl"].rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/_wsgate/connections", timeout=10) as reply:
        return [c["user"] for c in json.loads(reply.read())["connections"]]


def test_ctrl_c_closes_the_socket_and_exits_cleanly(chat_stack: RunningStack) -> None:
    client = Client(chat_stack, "ed")
    client.expect("connected to ws://127.0.0.1")
    assert "ed" in _users_connected(chat_stack)
    client.process.send_signal(signal.SIGINT)
    code, errors = client.finish()
    assert code == 0 and "Traceback" not in errors
    deadline = time.monotonic() + 60
    while "ed" in _users_connected(chat_stack):
        assert time.monotonic() < deadline, "ed is still connected after Ctrl+C"
        time.sleep(0.2)


def test_an_invalid_user_is_refused_with_the_reason(chat_stack: RunningStack) -> None:
    client = Client(chat_stack, "not a valid name!")
    code, errors = client.finish()
    assert code == 1
    assert "refused a token" in errors and "1-32 characters" in errors


class Terminal:
    """``wsgate connect`` on a pseudo-terminal: the readline prompt path, keys as typed."""

    def __init__(self, stack: RunningStack, user: str) -> None:
        argv = [sys.executable, "-m", "wsgate.cli", "connect", "--user", user]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the command
            os.execv(sys.executable, [*argv, "--state-dir", str(stack.state_dir)])
        self.output = b""

    def expect(self, text: bytes, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    break
        assert text in self.output, self.output.decode(errors="replace")

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize(("key", "name"), [(b"\x04", "ctrl-d"), (b"\x03", "ctrl-c")])
def test_terminal_prompt_chats_keeps_history_and_exits_on_ctrl_d_or_ctrl_c(
    chat_stack: RunningStack, key: bytes, name: str
) -> None:
    user = f"tty-{name}"
    terminal = Terminal(chat_stack, user)
    terminal.expect(b"connected to ws://127.0.0.1")
    terminal.type(b"/join ttys\r")
    terminal.expect(f"* {user} joined ttys".encode())
    terminal.type(key)
    terminal.expect(b"bye", timeout_s=60)
    assert terminal.exit_code() == 0
    assert b"Traceback" not in terminal.output
    assert "/join ttys" in (chat_stack.state_dir / "connect_history").read_text()
