"""The tutorial's own client: ``wscat`` from npm, driven non-interactively.

``make test`` installs wscat into ``node_modules`` when npm exists; without it these tests are
skipped with that reason. wscat quits when stdin closes, so stdin is a pipe held open for a few
seconds (the ``sleep 3 | wscat ... -x ... -w 1`` idiom from the tool notes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.local.conftest import RunningStack

WSCAT = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "wscat"

pytestmark = pytest.mark.skipif(
    not WSCAT.exists() or shutil.which("node") is None,
    reason="wscat is not installed (make test installs it with npm; Node.js/npm not found)",
)


def _wscat(url: str, headers: list[str], message: str, wait_s: int = 2) -> list[object]:
    argv = [str(WSCAT), "--no-color", "-c", url, "-x", message, "-w", str(wait_s)]
    for header in headers:
        argv += ["-H", header]
    sleeper = subprocess.Popen(["sleep", str(wait_s + 2)], stdout=subprocess.PIPE)
    try:
        done = subprocess.run(
            argv, stdin=sleeper.stdout, capture_output=True, text=True, timeout=30, check=False
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    frames = []
    for line in done.stdout.splitlines():
        text = line.strip().lstrip("<").strip()
        if text.startswith("{"):
            frames.append(json.loads(text))
    assert frames, f"wscat printed no frames: {done.stdout!r} {done.stderr!r}"
    return frames


def test_wscat_joins_a_room_with_the_tutorial_headers(header_stack: RunningStack) -> None:
    """Exactly the command ``wsgate local`` prints: Authorization + x-api-key headers."""
    facts = header_stack.facts
    frames = _wscat(
        facts["websocketUrl"],
        [f"authorization:Bearer {header_stack.token('alice')}", f"x-api-key:{facts['apiKey']}"],
        json.dumps({"action": "joinroom", "roomname": "developers"}),
    )
    assert {"type": "joined", "room": "developers", "user": "alice"}.items() <= dict(
        frames[0]  # type: ignore[arg-type]
    ).items()


def test_wscat_gets_routed_to_default(chat_stack: RunningStack) -> None:
    frames = _wscat(
        chat_stack.facts["websocketUrl"],
        [f"authorization:Bearer {chat_stack.token('bob')}"],
        "hello?",
    )
    assert frames[0]["type"] == "help"  # type: ignore[index]
