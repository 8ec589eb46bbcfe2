"""``wsgate invoke --remote``: ``lambda:Invoke`` on the deployed function, checked with botocore's
Stubber against Lambda's own API model (no network). The function's name follows Chalice's
rule for the stage ``[tool.wsgate]`` names."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from click.testing import CliRunner

from shared.names import StackNames
from wsgate.cli import invoke as invoke_cli
from wsgate.cli.main import main


def _body(answer: Any) -> StreamingBody:
    data = json.dumps(answer).encode()
    return StreamingBody(io.BytesIO(data), len(data))


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client(
        "lambda", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stubber = Stubber(client)
    monkeypatch.setattr(invoke_cli, "lambda_client", lambda region: client)
    return stubber


def _pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.wsgate]\nstack = "chat"\nstage = "dev"\nregion = "eu-west-1"\n')
    return path


def _run(pyproject: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["invoke", "--remote", "--pyproject", str(pyproject), *args])


def test_remote_ops_invokes_the_stage_function_with_the_payload(
    stubbed: Stubber, tmp_path: Path
) -> None:
    payload = {"action": "broadcast", "message": "hi"}
    stubbed.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": _body({"delivered": 2, "gone": [], "failed": []})},
        {
            "FunctionName": StackNames("chat", "dev").function("ops"),
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(payload).encode(),
        },
    )
    with stubbed:
        result = _run(_pyproject(tmp_path), "ops", json.dumps(payload))
        stubbed.assert_no_pending_responses()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["delivered"] == 2


def test_remote_function_error_is_one_line(stubbed: Stubber, tmp_path: Path) -> None:
    stubbed.add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": _body({"errorMessage": "boom", "errorType": "RuntimeError"}),
        },
    )
    with stubbed:
        result = _run(_pyproject(tmp_path), "ops", '{"action":"usage"}')
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "wsgate-dev-ops failed (Unhandled): boom" in line


def test_remote_refuses_a_bad_payload_before_calling(stubbed: Stubber, tmp_path: Path) -> None:
    with stubbed:  # no response queued: any call would fail the test
        result = _run(_pyproject(tmp_path), "ops", '{"action":"kick"}')
    assert result.exit_code == 1
    assert "kick.connectionId: Field required" in result.stderr


def test_remote_scheduled_prune_gets_a_scheduled_event(stubbed: Stubber, tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.append(json.loads(params["Payload"]))

    stubbed.client.meta.events.register("provide-client-params.lambda.Invoke", capture)
    stubbed.add_response("invoke", {"StatusCode": 200, "Payload": _body({"complete": True})})
    with stubbed:
        result = _run(_pyproject(tmp_path), "prune")
    assert result.exit_code == 0, result.output
    assert sent[0]["detail-type"] == "Scheduled Event" and sent[0]["source"] == "aws.events"
