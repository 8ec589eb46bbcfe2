"""``wsgate local --quiet`` prints no event lines, yet the events are still recorded for
``wsgate logs``; and ``wsgate token`` with no local stack running falls back to AWS's SSM."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

from tests.local.conftest import start_local, stop_local
from tests.local.named_stacks import token_for, wsgate
from wsgate.local.processes import free_port


async def test_quiet_prints_no_event_lines_but_records_them(tmp_path: Path) -> None:
    stack = start_local(tmp_path / "state", "--quiet")
    try:
        token = token_for(tmp_path, "quinn", "--state-dir", str(stack.state_dir))
        url = stack.facts["websocketUrl"]
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send(json.dumps({"action": "joinroom", "roomname": "hush"}))
            await asyncio.wait_for(ws.recv(), 15)
        events = stack.state_dir / "events.jsonl"
        deadline = time.monotonic() + 30
        while '"kind":"disconnect"' not in events.read_text():
            assert time.monotonic() < deadline, events.read_text()
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # what a printing stack would have printed by now
        output = stack.output()
        for kind in ("connect", "route", "integration", "disconnect"):
            assert f" {kind} " not in output, output
        logged = wsgate(tmp_path, "logs", "--state-dir", str(stack.state_dir))
        assert " quinn key from authorizer status 101" in logged.stdout
    finally:
        stop_local(stack)


def test_token_without_a_local_stack_reads_ssm_and_says_what_to_do(tmp_path: Path) -> None:
    """No stack here: the secret comes from SSM, as for a deployed stack (here an endpoint
    nobody listens on, so the failure is the message a user without a stack sees)."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_SSM": f"http://127.0.0.1:{free_port()}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("WSGATE_TOKEN_SECRET", None)
    done = subprocess.run(
        [sys.executable, "-m", "wsgate.cli", "token", "--user", "bob"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no local stack is running here" in done.stderr
    assert "Start `wsgate local`" in done.stderr
    signed = wsgate(tmp_path, "token", "--user", "bob", "--secret", "s" * 32)
    assert signed.returncode == 0 and signed.stdout.count(".") == 2, signed.stderr
