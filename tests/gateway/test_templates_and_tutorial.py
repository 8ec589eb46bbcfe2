"""Loading templates (intrinsics, refusals) and a replay of the tutorial's MOCK steps."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from click.testing import CliRunner
from websockets.asyncio.client import connect

from tests.gateway.conftest import GatewayFactory
from tests.gateway.templates import http_api, tutorial_mock_api
from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError
from wsgate.gateway.template_loader import load_api

WSCAT = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "wscat"


def test_intrinsics() -> None:
    template = {
        "Parameters": {
            "Name": {"Type": "String", "Default": "d"},
            "Flag": {"Type": "String", "Default": "no"},
        },
        "Conditions": {"On": {"Fn::Equals": [{"Ref": "Flag"}, "yes"]}},
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-t"}},
            }
        },
    }
    resolver = Resolver(template, {"Name": "n"})
    assert (
        resolver.resolve({"Fn::Sub": "${Name}/${!Literal}/${AWS::Region}"}, "x")
        == "n/${Literal}/us-east-1"
    )
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Name"}]]}, "x") == "a-n"
    assert resolver.resolve({"Fn::If": ["On", "yes", {"Ref": "AWS::NoValue"}]}, "x") is not None
    assert resolver.resolve({"k": {"Fn::If": ["On", 1, {"Ref": "AWS::NoValue"}]}}, "x") == {}
    assert resolver.resolve({"Ref": "Table"}, "x") == "wsgate-local-t"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}, "x") == "b"
    with pytest.raises(UnsupportedTemplateError, match=r"Parameters\.Nope"):
        Resolver(template, {"Nope": "1"})


def test_unsupported_things_are_refused_by_name() -> None:
    template = http_api()
    # AWS service integrations other than Lambda (here DynamoDB) are not emulated.
    template["Resources"]["SayIntegration"]["Properties"] |= {
        "IntegrationType": "AWS",
        "IntegrationUri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
    }
    with pytest.raises(UnsupportedTemplateError) as refused:
        load_api(template)
    assert str(refused.value).startswith("SayIntegration.IntegrationUri:")
    assert "is not a Lambda function" in str(refused.value)

    from wsgate.cli.gateway import gateway

    path = Path(__file__).parent / "unsupported.json"
    try:
        path.write_text(json.dumps(template))
        result = CliRunner().invoke(gateway, ["--template", str(path), "--port", "0"])
    finally:
        path.unlink()
    assert result.exit_code == 1
    assert "cannot emulate this template: SayIntegration.IntegrationUri" in result.output
    assert "Traceback" not in result.output


async def test_tutorial_mock_sequence(
    gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    broken = await gateway(tutorial_mock_api(with_status_code=False))
    with pytest.raises(websockets.InvalidStatus) as rejected:
        async with connect(broken.url):
            pass
    assert rejected.value.response.status_code == 500
    assert "statusCode should be an integer which defined in request template" in caplog.text

    fixed = await gateway(tutorial_mock_api(with_status_code=True))
    async with connect(fixed.url) as client:
        await client.send("garbage")
        assert json.loads(await asyncio.wait_for(client.recv(), 5)) == {"route": "$default"}
        await client.send(json.dumps({"action": "joinroom"}))
        assert json.loads(await asyncio.wait_for(client.recv(), 5)) == {"route": "joinroom"}
    await asyncio.sleep(0.2)
    assert "route $disconnect" in caplog.text


@pytest.mark.skipif(
    not WSCAT.exists(), reason="wscat not installed (make test installs it with npm)"
)
def test_wsgate_gateway_serves_synth_mock_to_wscat(tmp_path: Path) -> None:
    """Done-when of the issue: `wsgate gateway` on `wsgate synth --integration mock`, wscat."""
    template = tmp_path / "mock.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "wsgate.cli",
            "synth",
            "--integration",
            "mock",
            "--insecure-no-authorizer",
            "-o",
            str(template),
        ],
        check=True,
        capture_output=True,
    )
    from wsgate.local.processes import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wsgate.cli",
            "gateway",
            "--template",
            str(template),
            "--port",
            str(port),
            "--param",
            "DevApiKeyValue=" + "d" * 30,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        assert "wsgate gateway" in server.stderr.readline()
        sleeper = subprocess.Popen(["sleep", "4"], stdout=subprocess.PIPE)
        done = subprocess.run(
            [
                str(WSCAT),
                "--no-color",
                "-c",
                f"ws://127.0.0.1:{port}/prod",
                "-H",
                "x-api-key:" + "d" * 30,
                "-x",
                '{"action":"joinroom","roomname":"x"}',
                "-w",
                "2",
            ],
            stdin=sleeper.stdout,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        sleeper.kill()
        sleeper.wait()
        assert '"routeKey": "joinroom"' in done.stdout, done.stdout + done.stderr
    finally:
        server.terminate()
        server.wait(10)
    assert shutil.which("node") is not None
