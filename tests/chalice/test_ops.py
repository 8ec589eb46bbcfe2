"""The ops Lambda: each action against moto's server and a real @connections endpoint."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from botocore.stub import Stubber
from chalice.test import Client
from click.testing import CliRunner

from chalice_app.app import app
from chalice_app.chalicelib import ops
from chalice_app.chalicelib.ops import OpsConfig
from shared.names import DEFAULT_STACK_NAME, StackNames
from shared.ops_actions import Usage
from tests.support.connections_endpoint import ConnectionsEndpoint, served_in_thread
from tests.support.moto import CREDENTIALS, REGION, client, create_connections_table
from wsgate.cli.token import token as token_command

STAGE = "prod"


@pytest.fixture
def endpoint() -> Iterator[ConnectionsEndpoint]:
    """The @connections server on its own loop and thread: the ops Lambda runs asyncio.run."""
    with served_in_thread(ConnectionsEndpoint(stage=STAGE)) as server:
        yield server


@pytest.fixture
def stack(
    aws_endpoint: str, endpoint: ConnectionsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """What infra deploys: the table, a usage plan, and the SSM parameters naming them."""
    for name, value in {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "WSGATE_STAGE": STAGE,
    }.items():
        monkeypatch.setenv(name, value)
    table_name = f"ops-{time.monotonic_ns()}"
    create_connections_table(aws_endpoint, table_name)
    plan = client("apigateway", aws_endpoint).create_usage_plan(name="plan")
    ssm = client("ssm", aws_endpoint)
    names = StackNames(DEFAULT_STACK_NAME, STAGE)
    for name, value in {
        names.table_name_parameter: table_name,
        names.connections_endpoint_parameter: endpoint.url,
        names.usage_plan_id_parameter: plan["id"],
    }.items():
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    table = boto3.resource(
        "dynamodb", region_name=REGION, endpoint_url=aws_endpoint, **CREDENTIALS
    ).Table(table_name)
    yield table


def _invoke(event: Any) -> Any:
    with Client(app) as test_client:
        return test_client.lambda_.invoke("ops", event).payload


def _add(table: Any, endpoint: ConnectionsEndpoint, cid: str, room: str, live: bool = True) -> None:
    expires = int(time.time()) + 3600
    table.put_item(Item={"connectionId": cid, "userId": "u", "room": room, "expiresAt": expires})
    if live:
        endpoint.open_ids.add(cid)


def test_config_comes_from_the_ssm_parameters(stack: Any, endpoint: ConnectionsEndpoint) -> None:
    config = OpsConfig.from_ssm()
    assert (config.table_name, config.connections_endpoint) == (stack.name, endpoint.url)


def test_broadcast_to_a_room_and_410_cleanup(stack: Any, endpoint: ConnectionsEndpoint) -> None:
    _add(stack, endpoint, "a=", "devs")
    _add(stack, endpoint, "b=", "devs", live=False)
    _add(stack, endpoint, "c=", "design")
    result = _invoke({"action": "broadcast", "message": "maintenance at 5", "room": "devs"})
    assert result == {"delivered": 1, "gone": ["b="], "failed": []}
    assert "Item" not in stack.get_item(Key={"connectionId": "b="})
    assert endpoint.received["c="] == []
    everyone = _invoke({"action": "broadcast", "message": "hello all"})
    assert everyone["delivered"] == 2


def test_kick_closes_and_forgets(stack: Any, endpoint: ConnectionsEndpoint) -> None:
    _add(stack, endpoint, "k=", "r")
    assert _invoke({"action": "kick", "connectionId": "k="}) == {
        "connectionId": "k=",
        "closed": True,
    }
    assert endpoint.deleted == ["k="]
    assert "Item" not in stack.get_item(Key={"connectionId": "k="})


def test_prune_removes_expired_and_gone(stack: Any, endpoint: ConnectionsEndpoint) -> None:
    _add(stack, endpoint, "live=", "r")
    _add(stack, endpoint, "gone=", "r", live=False)
    stack.put_item(Item={"connectionId": "old=", "userId": "u", "expiresAt": 1})
    result = _invoke({"action": "prune"})
    assert (result["expired"], result["gone"], result["deleted"]) == (1, 1, 2)
    assert (result["checked"], result["complete"], result["resume"]) == (2, True, None)
    remaining = {item["connectionId"] for item in stack.scan()["Items"]}
    assert remaining == {"live="}


def test_issue_api_key_and_usage(stack: Any, aws_endpoint: str) -> None:
    issued = _invoke({"action": "issue_api_key", "name": "partner-1"})
    assert len(issued["value"]) >= 20 and issued["created"] is True
    apigateway = client("apigateway", aws_endpoint)
    plan_id = OpsConfig.from_ssm().usage_plan_id
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]
    assert [k["id"] for k in keys] == [issued["id"]]
    again = _invoke({"action": "issue_api_key", "name": "partner-1"})
    assert again == {**issued, "created": False}
    today = datetime.date.today().isoformat()
    usage = _invoke({"action": "usage", "startDate": today, "endDate": today})
    # moto 5 does not implement GetUsage; the action must still answer with a clear error
    # (against AWS it returns the usage items; that path is exercised only in AWS).
    served = usage.get("usagePlanId") == plan_id
    assert served or usage["error"].startswith("GetUsage failed: 404"), usage


def test_usage_request_and_answer_follow_the_get_usage_api_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto has no GetUsage, so botocore's Stubber checks the request against the API model
    (a misspelt or missing parameter fails here) and plays AWS's documented answer shape."""
    apigateway = boto3.client("apigateway", region_name=REGION, **CREDENTIALS)
    stubber = Stubber(apigateway)
    items = {"key-1": [[3, 497], [12, 485]]}  # per key, per day: [used, remaining]
    period = {"usagePlanId": "plan-1", "startDate": "2026-11-01", "endDate": "2026-11-02"}
    stubber.add_response("get_usage", {**period, "items": items}, {**period, "keyId": "key-1"})
    monkeypatch.setattr(ops.boto3, "client", lambda service, **_: apigateway)
    config = OpsConfig(REGION, "table", "http://127.0.0.1:1/prod", usage_plan_id="plan-1")
    action = Usage.model_validate(
        {"action": "usage", "startDate": "2026-11-01", "endDate": "2026-11-02", "keyId": "key-1"}
    )
    with stubber:
        answer = ops.usage(action, config)
    stubber.assert_no_pending_responses()
    assert answer == {**period, "items": items}


def test_bad_requests_get_clear_errors(stack: Any) -> None:
    unknown = _invoke({"action": "reboot"})
    assert unknown["error"] == "invalid ops request"
    assert "reboot" in unknown["details"][0]["msg"]
    missing = _invoke({"action": "broadcast"})
    assert missing["details"] == [{"loc": "broadcast.message", "msg": "Field required"}]
    backwards = _invoke({"action": "usage", "startDate": "2026-02-01", "endDate": "2026-01-01"})
    assert "endDate" in backwards["details"][0]["msg"]


def test_one_key_per_user_idempotent_and_in_the_plan(stack: Any, aws_endpoint: str) -> None:
    """Each user gets their own key (so the plan's quota is per user); a second login of the
    same user gets the same key back, not a second one."""
    suffix = str(time.monotonic_ns())
    # The longer name first: API Gateway's nameQuery is a prefix match, so looking up "ann…"
    # also returns "ann…x"; only an exact comparison keeps the two users apart.
    other = _invoke({"action": "issue_api_key", "user": f"ann{suffix}x"})
    first = _invoke({"action": "issue_api_key", "user": f"ann{suffix}"})
    again = _invoke({"action": "issue_api_key", "user": f"ann{suffix}"})
    assert first["created"] and not again["created"] and other["created"]
    assert again["id"] == first["id"] and again["value"] == first["value"]
    assert other["id"] != first["id"] and other["value"] != first["value"]
    assert first["name"] == StackNames().user_api_key_name(f"ann{suffix}")
    apigateway = client("apigateway", aws_endpoint)
    plan_id = OpsConfig.from_ssm().usage_plan_id
    in_plan = {k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]}
    assert {first["id"], other["id"]} <= in_plan
    named = apigateway.get_api_keys(nameQuery=first["name"])["items"]
    assert [k["id"] for k in named if k["name"] == first["name"]] == [first["id"]]


def test_issue_api_key_needs_exactly_one_of_user_or_name(stack: Any) -> None:
    for event in (
        {"action": "issue_api_key"},
        {"action": "issue_api_key", "user": "a", "name": "b"},
    ):
        answer = _invoke(event)
        assert answer["error"] == "invalid ops request"
        assert "exactly one of name" in answer["details"][0]["msg"]


def test_wsgate_token_puts_the_users_own_key_in_the_token(stack: Any) -> None:
    """The token-minting path issues the user's key on first use and reuses it afterwards."""
    user = f"tok{time.monotonic_ns()}"
    runner = CliRunner()
    args = ["--user", user, "--secret", "s" * 48, "--user-api-key"]
    first, second = runner.invoke(token_command, args), runner.invoke(token_command, args)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    claims = [
        jwt.decode(r.output.strip(), options={"verify_signature": False}) for r in (first, second)
    ]
    issued = _invoke({"action": "issue_api_key", "user": user})
    assert claims[0]["apiKey"] == claims[1]["apiKey"] == issued["value"]
    assert issued["created"] is False
