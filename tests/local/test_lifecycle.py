"""``wsgate local`` starts cleanly, refuses a taken port up front, and leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.local.conftest import start_local, stop_local
from wsgate.cli.local import banner
from wsgate.local.processes import ensure_port_free
from wsgate.local.stack_options import LocalStackInfo


def test_a_taken_port_fails_fast_with_the_flag_to_change(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "wsgate.cli",
                "local",
                f"--gateway-port={taken}",
                "--service-port=0",
                "--moto-port=0",
                "--console-port=0",
                f"--state-dir={tmp_path}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"port {taken} for gateway is already in use" in done.stderr
    assert "--gateway-port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert time.monotonic() - started < 15
    assert not (tmp_path / "logs").exists(), "nothing should have been started"


def test_sigterm_stops_every_child_and_frees_every_port(tmp_path: Path) -> None:
    stack = start_local(tmp_path)
    output = stack.output()
    assert "npx wscat -c " + stack.facts["websocketUrl"] in output
    assert stack.facts["apiKey"] in output
    stop_local(stack)
    assert stack.process.returncode == 0
    assert not (tmp_path / "local.json").exists()
    for key in ("websocketUrl", "serviceUrl", "consoleUrl", "ssmEndpoint"):
        port = int(stack.facts[key].rstrip("/").split(":")[2].split("/")[0])
        ensure_port_free(port, key, "-")


def test_banner_prints_ready_to_paste_commands() -> None:
    info = LocalStackInfo(
        websocket_url="ws://127.0.0.1:3001/prod",
        connections_url="http://127.0.0.1:3001/prod",
        console_url="http://127.0.0.1:3000/",
        service_url="http://127.0.0.1:8080",
        dynamodb_endpoint="http://127.0.0.1:8000",
        ssm_endpoint="http://127.0.0.1:8000",
        region="us-east-1",
        table_name="wsgate-local-connections",
        stage="prod",
        api_key="KEY",
        token_secret_parameter="/wsgate/token-secret",
        tokens={"alice": "TA", "bob": "TB"},
        template=".wsgate/template.json",
        logs=".wsgate/logs",
    )
    text = banner(info)
    assert (
        "npx wscat -c ws://127.0.0.1:3001/prod -H 'authorization:Bearer TA' -H x-api-key:KEY"
        in text
    )
    assert "token for bob: TB" in text
    assert "http://127.0.0.1:3000/" in text
