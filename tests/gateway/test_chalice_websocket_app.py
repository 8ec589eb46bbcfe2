"""An unmodified Chalice WebSocket app, packaged by ``chalice package``, run by the local gateway.

``chalice local`` has no WebSocket support (aws/chalice#1674) and SAM CLI cannot start a
template with a WebSocket API (aws/aws-sam-cli#2610); here the SAM template Chalice writes is
served as is: its ``AWS::Serverless::Function`` resources run from ``deployment.zip``, and
``app.websocket_api.send`` (a ``post_to_connection`` to ``https://{apiId}.execute-api...``)
reaches the local gateway's ``@connections``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import connect

from tests.gateway.conftest import GatewayFactory

APP = Path(__file__).parent / "chalice_echo"


def _package(tmp_path: Path, template_format: str = "json") -> Path:
    project = tmp_path / "echo"
    shutil.copytree(APP, project)
    out = tmp_path / "out"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("chalice")),
            "package",
            "--stage",
            "dev",
            "--template-format",
            template_format,
            str(out),
        ],
        cwd=project,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / f"sam.{template_format}"


async def test_chalice_package_output_chats_through_the_local_gateway(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    template = await asyncio.to_thread(_package, tmp_path)
    assert json.loads(template.read_text())["Transform"] == "AWS::Serverless-2016-10-31"
    running = await gateway(template)
    assert running.url.endswith("/api")  # the stage Chalice's config names
    async with connect(running.url) as client:
        await client.send("hello")
        assert await asyncio.wait_for(client.recv(), 30) == "echo: hello"
        await client.send(json.dumps({"action": "anything"}))  # $default carries every message
        assert await asyncio.wait_for(client.recv(), 30) == 'echo: {"action": "anything"}'


async def test_the_yaml_template_runs_the_same(gateway: GatewayFactory, tmp_path: Path) -> None:
    template = await asyncio.to_thread(_package, tmp_path, "yaml")
    running = await gateway(template)
    async with connect(running.url) as client:
        await client.send("yaml")
        assert await asyncio.wait_for(client.recv(), 30) == "echo: yaml"
