"""The generated IAM policies allow exactly what each Lambda calls, for any stack name.

The calls are not listed by hand: every function runs its actions against moto's server with
moto's request recorder on, and against a recording ``@connections`` endpoint; each recorded
request becomes the (IAM action, resource ARN) AWS would authorize. Then, per function:

- every call is allowed by that function's policy (a policy allowing ``wsgate-*-connections``
  while the stack creates ``wsgate-connections`` fails here);
- every granted action/resource pair is used by some call (nothing unused), no resource is a
  bare ``*``;
- the same calls against another stack, stage, API, region or account are denied, and the
  other functions' calls are denied (one role per function).

ARN forms: DynamoDB https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html,
SSM https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html,
API Gateway control plane (IAM action = HTTP method, resource = path)
https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html,
@connections https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html,
SecureString decryption through SSM (kms:ViaService)
https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import chalice.test
import pytest
from aiohttp import web
from chalice.local import LambdaContext
from chalice.test import Client
from moto.moto_api import recorder

from chalice_app import policies
from chalice_app.app import app
from chalice_app.chalicelib import lambda_routes, secret_parameter
from chalice_app.chalicelib.tokens import mint_token
from chalice_app.policies import Target
from shared.names import StackNames
from tests.chalice.iam_eval import UnsupportedPolicy, allowed, glob_match, statements
from tests.chalice.test_lambda_routes import _event as listrooms_event
from tests.support.connections_endpoint import ConnectionsEndpoint, served_in_thread
from tests.support.moto import REGION, client, create_connections_table

ACCOUNT = "123456789012"  # moto's default account
API_ID = "abcdef1234"
Call = tuple[str, str, dict[str, str]]


@dataclass
class RecordingEndpoint(ConnectionsEndpoint):
    """@connections that remembers every (method, connection id) it was asked for."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    async def _post(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", request.match_info["id"]))
        return await super()._post(request)

    async def _get(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", request.match_info["id"]))
        return await super()._get(request)

    async def _delete(self, request: web.Request) -> web.Response:
        self.calls.append(("DELETE", request.match_info["id"]))
        return await super()._delete(request)


@pytest.fixture
def endpoint() -> Iterator[RecordingEndpoint]:
    with served_in_thread(RecordingEndpoint(stage="prod")) as server:
        yield server


def _deploy(stack: str, aws_endpoint: str, endpoint_url: str) -> tuple[StackNames, str, str]:
    """What the infra stack and ``wsgate deploy`` create, under ``stack``'s names."""
    names = StackNames(stack, "prod")
    dynamodb = client("dynamodb", aws_endpoint)
    if names.table not in dynamodb.list_tables()["TableNames"]:
        create_connections_table(aws_endpoint, names.table)
    plan = client("apigateway", aws_endpoint).create_usage_plan(name=f"{stack}-chat")["id"]
    ssm = client("ssm", aws_endpoint)
    for name, value in {
        names.table_name_parameter: names.table,
        names.connections_endpoint_parameter: endpoint_url,
        names.usage_plan_id_parameter: plan,
    }.items():
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    old, new = "o" * 48, "n" * 48
    for value in (old, new):
        ssm.put_parameter(
            Name=names.token_secret_parameter, Value=value, Type="SecureString", Overwrite=True
        )
    return names, plan, old


def _exercise(
    names: StackNames, aws_endpoint: str, endpoint: RecordingEndpoint, old_secret: str
) -> dict[str, list[Call]]:
    """Run every function's actions, recording the AWS requests each one makes."""
    table = client("dynamodb", aws_endpoint)

    def seed(records: dict[str, tuple[str, int]]) -> None:
        """Records by id: (room, expiresAt); the action that follows finds them. Not recorded:
        the service writes these, not the Lambdas."""
        recording = recorder._user_enabled
        recorder.stop_recording()
        for cid, (room, expires) in records.items():
            item = {"connectionId": {"S": cid}, "userId": {"S": "u"}}
            item["expiresAt"] = {"N": str(expires)}
            if room:
                item["room"] = {"S": room}
            table.put_item(TableName=names.table, Item=item)
        if recording:
            recorder.start_recording()

    later = int(time.time()) + 600
    stale = {"old=": ("", 1), "gone=": ("", later)}
    seed({"a=": ("r", later), "b=": ("r", later)})
    endpoint.open_ids.update({"a="})
    token = mint_token(old_secret, "alice")
    ops_events: list[Any] = [
        {"action": "broadcast", "message": "hi", "room": "r"},
        {"action": "broadcast", "message": "hi all"},
        {"action": "kick", "connectionId": "a="},
        stale,
        {"action": "prune"},
        stale,
        {"action": "prune", "persistResume": True},
        {"action": "issue_api_key", "user": f"u{time.monotonic_ns()}"},
        {"action": "usage", "startDate": "2026-01-01", "endDate": "2026-01-02"},
    ]
    ops_events.insert(8, dict(ops_events[7]))  # a second login: the find-existing path
    calls: dict[str, list[Call]] = {}
    with Client(app) as test_client:

        def invoke(function: str, event: Any) -> Any:
            return test_client.lambda_.invoke(function, event).payload

        def ops(event: Any) -> Any:
            return invoke("ops", event)

        cw_event = test_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        runs: dict[str, list[Callable[[], Any]]] = {
            "authorizer": [
                lambda: invoke(
                    "authorizer", {"methodArn": "m", "headers": {"Authorization": token}}
                )
            ],
            "ops": [functools.partial(seed if "action" not in e else ops, e) for e in ops_events],
            "prune": [lambda: seed(stale), lambda: invoke("prune", cw_event)],
            "listrooms": [
                lambda: setattr(lambda_routes, "_table_name", None),
                lambda: invoke("listrooms", listrooms_event('{"action":"listrooms"}')),
            ],
        }
        control_plane: list[Call] = []

        def remember(request: Any, **_: Any) -> None:
            control_plane.append(_control_plane_call(request.method, request.url))

        boto3.setup_default_session()  # the session ops' boto3.client("apigateway") uses
        boto3.DEFAULT_SESSION.events.register("before-send.apigateway", remember)
        for function, steps in runs.items():
            secret_parameter.clear_cache()
            endpoint.calls.clear()
            control_plane.clear()
            recorder.reset_recording()
            recorder.start_recording()
            try:
                for step in steps:
                    answer = step() or {}
                    assert "error" not in answer or "GetUsage" in answer["error"], answer
                    assert answer.get("deleted", 2) == 2, answer
            finally:
                recorder.stop_recording()
            calls[function] = [
                *_aws_calls(recorder.download_recording(), names),
                *control_plane,
                *(_connection_call(method, cid, names) for method, cid in endpoint.calls),
            ]
    return calls


def _aws_calls(recording: str, names: StackNames) -> list[Call]:
    found: list[Call] = []
    for line in recording.splitlines():
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        service = headers["authorization"].split("Credential=")[1].split("/")[3]
        body_text = entry.get("body") or ""
        if entry.get("body_encoded"):
            body_text = base64.b64decode(body_text).decode()
        if service == "apigateway":
            continue  # recorded on the client side (_control_plane_calls): moto lacks GetUsage
        body = json.loads(body_text or "{}")
        operation = headers["x-amz-target"].split(".")[-1]
        found.extend(_json_call(service, operation, body, names))
    return found


def _control_plane_call(method: str, url: str) -> Call:
    """API Gateway's control plane authorizes the HTTP method on the resource path."""
    return (f"apigateway:{method}", f"arn:aws:apigateway:{REGION}::{urlparse(url).path}", {})


def _json_call(service: str, operation: str, body: dict[str, Any], names: StackNames) -> list[Call]:
    action = f"{service}:{operation}"
    if service == "dynamodb":
        tables = list(body.get("RequestItems", {})) or [body["TableName"]]
        arns = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t}" for t in tables]
        if "IndexName" in body:
            arns = [f"{arns[0]}/index/{body['IndexName']}"]
        return [(action, arn, {}) for arn in arns]
    assert service == "ssm", service
    parameters = body.get("Names") or [body["Name"]]
    found: list[Call] = []
    for parameter in parameters:
        name = parameter.split(":")[0]
        found.append((action, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}", {}))
        if body.get("WithDecryption") and name == names.token_secret_parameter:
            key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b6c0e0f-aws-ssm-default"
            via = {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
            found.append(("kms:Decrypt", key, via))
    return found


def _connection_call(method: str, connection_id: str, names: StackNames) -> Call:
    path = f"{API_ID}/{names.stage}/{method}/@connections/{connection_id}"
    return ("execute-api:ManageConnections", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{path}", {})


@pytest.fixture
def aws_env(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for name, value in {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(recorder, "_location", str(tmp_path / "moto-recording.jsonl"))
    return aws_endpoint


LAMBDA_MS = 60_000
"""Chalice's default ``lambda_timeout``, as the deployed functions get it."""
Calls = dict[str, Any]
"""Function name -> the (action, resource, context) calls it made against moto."""


def _assert_every_grant_is_used(function: str, policy: dict[str, Any], calls: Calls) -> None:
    for statement in statements(policy):
        assert "*" not in statement["Resource"], (function, statement)
        if statement["Sid"] == "OwnLogs":
            continue
        for action in statement["Action"]:
            for resource in statement["Resource"]:
                used = any(
                    glob_match(action, a, ignore_case=True) and glob_match(resource, r)
                    for a, r, _ in calls[function]
                )
                assert used, f"{function} is granted {action} on {resource}, never used"


def _assert_least_privilege(generated: dict[str, Any], calls: Calls) -> None:
    """Each function may make every call it made, is granted nothing it did not use, and may
    make none of its neighbours' calls."""
    for function, policy in generated.items():
        for action, resource, context in calls[function]:
            assert allowed(policy, action, resource, context), (function, action, resource)
        _assert_every_grant_is_used(function, policy, calls)
        for neighbour in set(generated) - {function}:
            foreign = [c for c in calls[neighbour] if c not in calls[function]]
            for action, resource, context in foreign:
                assert not allowed(policy, action, resource, context), (function, action)


def _assert_foreign_resources_denied(
    function: str, own_policy: dict[str, Any], other_policy: dict[str, Any]
) -> set[str]:
    """Every resource another target's policy names is denied to ``own_policy``, unless it is
    one of its own (the varied dimension is not part of its name); those are returned."""
    own = {r for st in statements(own_policy) for r in st["Resource"]}
    same: set[str] = set()
    for statement in statements(other_policy):
        if statement["Sid"] == "OwnLogs":
            continue
        context = {k: v for t in statement.get("Condition", {}).values() for k, v in t.items()}
        for resource in statement["Resource"]:
            if resource in own:
                same.add(resource)
                continue
            probe = resource.replace("*", "x1")
            for action in statement["Action"]:
                assert not allowed(own_policy, action, probe, context), (function, action, probe)
    return same


@pytest.mark.parametrize("stack", ["wsgate", "chat-prod"])
def test_each_function_is_allowed_exactly_what_it_calls(
    stack: str, aws_env: str, endpoint: RecordingEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    names, plan, old_secret = _deploy(stack, aws_env, endpoint.url)
    # Chalice's test client gives every invocation a 3 s context; prune stops when its budget
    # runs out, which a loaded machine can reach before the first page. Lambda's own budget is
    # the function's timeout (60 s here); the budget has its own tests in test_prune.py.
    monkeypatch.setattr(
        chalice.test, "LambdaContext", functools.partial(LambdaContext, max_runtime_ms=LAMBDA_MS)
    )
    monkeypatch.setenv("WSGATE_STACK_NAME", stack)
    monkeypatch.setenv("WSGATE_TOKEN_SECRET_PARAM", names.token_secret_parameter)
    calls = _exercise(names, aws_env, endpoint, old_secret)
    target = Target(names, REGION, ACCOUNT, API_ID, plan)
    generated = policies.policies(target)
    assert set(generated) == set(calls) == set(policies.FUNCTIONS)
    assert calls["authorizer"] and calls["ops"] and calls["prune"]
    _assert_least_privilege(generated, calls)
    others = [
        Target(StackNames("otherstack", "prod"), REGION, ACCOUNT, "yyyyyyyyyy", "plan2"),
        Target(StackNames(stack, "dev"), REGION, ACCOUNT, API_ID, plan),
        Target(names, "eu-west-1", ACCOUNT, API_ID, plan),
        Target(names, REGION, "999999999999", API_ID, plan),
        Target(names, REGION, ACCOUNT, "zzzzzzzzzz", "otherplan"),
    ]
    shared: set[str] = set()
    for index, other in enumerate(others):
        for function, policy in policies.policies(other).items():
            same = _assert_foreign_resources_denied(function, generated[function], policy)
            if index == 0:
                shared |= same
    # Only account-wide things are shared with another stack: API keys belong to the account
    # and region, and SSM decrypts any parameter with the account's keys (the parameter grant
    # decides which secret can be read).
    assert shared == {
        f"arn:aws:apigateway:{REGION}::/apikeys",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
    }
    if stack == "wsgate":  # the committed files: any region and account, default names
        committed = policies.policies(Target(names))
        for function, policy in committed.items():
            for action, resource, context in calls[function]:
                assert allowed(policy, action, resource, context), (function, action, resource)


def test_decrypt_only_through_ssm_in_the_region() -> None:
    policy = policies.policies(Target(StackNames(), REGION, ACCOUNT, API_ID, "p"))["authorizer"]
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"
    assert allowed(policy, "kms:Decrypt", key, {"kms:ViaService": "ssm.us-east-1.amazonaws.com"})
    assert not allowed(policy, "kms:Decrypt", key)
    for via in ("dynamodb.us-east-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"):
        assert not allowed(policy, "kms:Decrypt", key, {"kms:ViaService": via})
    anywhere = policies.policies(Target())["authorizer"]
    assert allowed(anywhere, "kms:Decrypt", key, {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"})
    assert not allowed(anywhere, "kms:Decrypt", key, {"kms:ViaService": "s3.amazonaws.com"})


def test_committed_files_are_the_generators_output() -> None:
    """Edit names in shared/names.py, then run ``python -m chalice_app.policies``."""
    directory = policies.CHALICE_DIR
    expected = policies.rendered_files()
    on_disk = {p.name for p in directory.glob("*.json") if p.name != "deployed.json"}
    assert on_disk == set(expected)
    for name, content in expected.items():
        assert (directory / name).read_text() == content, name


def test_the_evaluator_itself() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:*",
                "Resource": "arn:aws:dynamodb:*:1:table/t*",
            },
            {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"},
        ]
    }
    assert allowed(policy, "DynamoDB:Scan", "arn:aws:dynamodb:us-east-1:1:table/t1")
    assert not allowed(policy, "dynamodb:Scan", "arn:aws:dynamodb:us-east-1:2:table/t1")
    assert not allowed(policy, "dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:1:table/t1")
    assert not allowed(policy, "ssm:GetParameter", "arn:aws:dynamodb:us-east-1:1:table/t1")
    assert glob_match("a?c", "abc") and not glob_match("a?c", "abbc")
    with pytest.raises(UnsupportedPolicy):
        allowed({"Statement": [{"Effect": "Allow", "NotAction": "x", "Resource": "*"}]}, "a", "b")
