"""Lambda integrations run by the local gateway: real sockets in, worker processes behind.

The template declares its functions (``AWS::Lambda::Function`` with a local code directory),
so these tests exercise the same path a SAM or packaged template takes. Behaviour checked
against the reference notes, section 2 (handshake statuses, error frames) and section 4.7
(proxy event shapes).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.gateway.conftest import GatewayFactory

CODE = str(Path(__file__).parent / "lambda_code")
URI = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31"
    "/functions/${F}/invocations"
)


def _function(handler: str, timeout: int = 3, **env: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": f"handlers.{handler}",
            "Code": CODE,
            "Timeout": timeout,
            "MemorySize": 256,
            "Environment": {"Variables": env},
        },
    }


def _integration(function: str, kind: str = "AWS_PROXY", **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Integration",
        "Properties": {
            "ApiId": {"Ref": "Api"},
            "IntegrationType": kind,
            "IntegrationUri": {"Fn::Sub": [URI, {"F": {"Fn::GetAtt": [function, "Arn"]}}]},
            **props,
        },
    }


def lambda_api(event_dir: Path, slow_timeout_s: int = 1, slow_wait_ms: int = 29_000) -> Any:
    """$connect / $disconnect / echo (two-way) / crash / slow / refuse / custom (AWS)."""
    resources: dict[str, Any] = {
        "Api": {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": "lambda-test",
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": "$request.body.action",
            },
        },
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": {"Ref": "Api"}, "StageName": "prod"},
        },
    }
    env = {"EVENT_DIR": str(event_dir), "GREETING": "hello", "TABLE": "t1"}
    handlers = {
        "$connect": ("connect", 3, {}),
        "$disconnect": ("disconnect", 3, {}),
        "echo": ("echo", 3, {}),
        "crash": ("crash", 3, {}),
        "slow": ("slow", slow_timeout_s, {"TimeoutInMillis": slow_wait_ms}),
        "refuse": ("refuse", 3, {}),
    }
    for key, (handler, timeout, props) in handlers.items():
        name = handler.title()
        resources[f"{name}Fn"] = _function(handler, timeout, **env)
        resources[f"{name}Integration"] = _integration(f"{name}Fn", **props)
        resources[f"{name}Route"] = _route(key, f"{name}Integration")
    resources["CustomFn"] = _function("custom")
    resources["CustomIntegration"] = _integration(
        "CustomFn",
        "AWS",
        TemplateSelectionExpression="\\$default",
        RequestTemplates={"$default": '{"cid": "$context.connectionId", "raw": $input.body}'},
    )
    resources["CustomIntegrationResponse"] = {
        "Type": "AWS::ApiGatewayV2::IntegrationResponse",
        "Properties": {
            "ApiId": {"Ref": "Api"},
            "IntegrationId": {"Ref": "CustomIntegration"},
            "IntegrationResponseKey": "$default",
        },
    }
    resources["CustomRoute"] = _route("custom", "CustomIntegration")
    return {"Resources": resources}


def _route(key: str, integration: str) -> dict[str, Any]:
    two_way = key not in ("$connect", "$disconnect")
    return {
        "Type": "AWS::ApiGatewayV2::Route",
        "Properties": {
            "ApiId": {"Ref": "Api"},
            "RouteKey": key,
            "Target": {"Fn::Join": ["/", ["integrations", {"Ref": integration}]]},
            **({"RouteResponseSelectionExpression": "$default"} if two_way else {}),
        },
    }


def with_route_responses(template: dict[str, Any]) -> dict[str, Any]:
    for logical_id, resource in list(template["Resources"].items()):
        props = resource["Properties"]
        if props.get("RouteResponseSelectionExpression"):
            template["Resources"][f"{logical_id}Response"] = {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "RouteId": {"Ref": logical_id},
                    "RouteResponseKey": "$default",
                },
            }
    return template


async def _frame(client: ClientConnection, wait_s: float = 20.0) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), wait_s))


@pytest.fixture
async def lambda_gateway(gateway: GatewayFactory, tmp_path: Path) -> Any:
    return await gateway(with_route_responses(lambda_api(tmp_path)))


async def test_two_way_proxy_route_answers_with_the_functions_body(
    lambda_gateway: Any, tmp_path: Path
) -> None:
    async with connect(lambda_gateway.url + "?room=a", user_agent_header="pytest-ws") as client:
        await client.send(json.dumps({"action": "echo", "n": 1}))
        first = await _frame(client)
        await client.send(json.dumps({"action": "echo", "n": 2}))
        second = await _frame(client)
    assert json.loads(first["body"]) == {"action": "echo", "n": 1}
    assert second["warm"] == first["warm"] + 1  # the same warm worker served both
    assert first["env"] == {"GREETING": "hello", "AWS_REGION": "us-east-1", "TABLE": "t1"}
    context = first["context"]
    assert context["function_name"]  # what Ref gives the function (no FunctionName set)
    assert context["invoked_function_arn"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{context['function_name']}"
    )
    # A string: awslambdaric reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE
    # (aws/aws-lambda-python-runtime-interface-client, awslambdaric/lambda_context.py).
    assert context["memory_limit_in_mb"] == "256"
    assert 0 < context["remaining_ms"] <= 3000
    assert context["aws_request_id"]
    connect_event = await _wait_for_file(tmp_path / "connect.json")
    assert connect_event["queryStringParameters"] == {"room": "a"}
    assert connect_event["requestContext"]["identity"]["userAgent"] == "pytest-ws"
    disconnect_event = await _wait_for_file(tmp_path / "disconnect.json")
    assert disconnect_event["requestContext"]["eventType"] == "DISCONNECT"
    assert disconnect_event["requestContext"]["disconnectStatusCode"] == 1000


async def _wait_for_file(path: Path) -> Any:
    for _ in range(200):
        if await asyncio.to_thread(path.exists):
            return json.loads(await asyncio.to_thread(path.read_text))
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never written")


async def test_connect_non_2xx_status_refuses_the_handshake(lambda_gateway: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(lambda_gateway.url + "?reject=401"):
            pass
    assert refused.value.response.status_code == 401


async def test_a_failing_connect_function_refuses_the_handshake_with_502(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    template = with_route_responses(lambda_api(tmp_path))
    template["Resources"]["ConnectFn"]["Properties"]["Handler"] = "handlers.crash"
    running = await gateway(template)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(running.url):
            pass
    assert refused.value.response.status_code == 502


async def test_exception_is_internal_server_error_and_the_traceback_is_logged(
    lambda_gateway: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    async with connect(lambda_gateway.url) as client:
        await client.send(json.dumps({"action": "crash"}))
        frame = await _frame(client)
        assert frame["message"] == "Internal server error"
        assert set(frame) == {"message", "connectionId", "requestId"}
        await client.send(json.dumps({"action": "echo"}))  # the connection stays open
        assert json.loads((await _frame(client))["body"]) == {"action": "echo"}
    logged = capfd.readouterr().err
    assert "[ERROR] ValueError: boom from the handler" in logged
    assert "Traceback (most recent call last)" in logged


async def test_function_timeout_is_internal_server_error(lambda_gateway: Any) -> None:
    async with connect(lambda_gateway.url) as client:
        await client.send(json.dumps({"action": "slow", "sleep": 5}))
        frame = await _frame(client)
        assert frame["message"] == "Internal server error"
        await client.send(json.dumps({"action": "slow", "sleep": 0}))  # a fresh worker
        assert await asyncio.wait_for(client.recv(), 20) == "late"


async def test_integration_timeout_below_the_function_timeout_is_endpoint_timed_out(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    running = await gateway(
        with_route_responses(lambda_api(tmp_path, slow_timeout_s=30, slow_wait_ms=1000))
    )
    async with connect(running.url) as client:
        await client.send(json.dumps({"action": "slow", "sleep": 5}))
        frame = await _frame(client)
    assert frame["message"] == "Endpoint request timed out"


async def test_non_2xx_on_a_message_route_is_no_error_frame(lambda_gateway: Any) -> None:
    async with connect(lambda_gateway.url) as client:
        await client.send(json.dumps({"action": "refuse"}))
        assert await _frame(client) == {"not": "found"}


async def test_aws_custom_integration_renders_the_template_and_the_response(
    lambda_gateway: Any,
) -> None:
    async with connect(lambda_gateway.url) as client:
        await client.send(json.dumps({"action": "custom", "x": [1]}))
        answer = await _frame(client)
    assert answer["got"]["raw"] == {"action": "custom", "x": [1]}
    assert answer["got"]["cid"]


async def test_concurrent_invocations_get_their_own_workers(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Two slow calls from two connections overlap, as two Lambda environments would."""
    running = await gateway(with_route_responses(lambda_api(tmp_path, slow_timeout_s=20)))
    async with connect(running.url) as one, connect(running.url) as two:
        loop = asyncio.get_running_loop()
        for client in (one, two):  # warm both workers first, so start-up is not timed
            await client.send(json.dumps({"action": "slow", "sleep": 0}))
        await asyncio.gather(*(asyncio.wait_for(c.recv(), 20) for c in (one, two)))
        started = loop.time()
        for client in (one, two):
            await client.send(json.dumps({"action": "slow", "sleep": 2}))
        await asyncio.gather(*(asyncio.wait_for(c.recv(), 20) for c in (one, two)))
        assert loop.time() - started < 3.5  # one worker would take 4 s or more
