"""Conformance: selection expressions, models, request parameters and integration responses.

Each test names the AWS page it follows; all run real WebSocket clients against the gateway on
127.0.0.1 with a real HTTP backend.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import API, KEY, _route, http_api, http_integration

KEYED = {"x-api-key": KEY}

EMAIL_MODEL = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["address"],
    "properties": {"address": {"type": "string"}},
}
"""The model of the documented example, verbatim."""


def _model(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Model",
        "Properties": {
            "ApiId": {"Ref": API},
            "Name": name,
            "ContentType": "application/json",
            "Schema": schema,
        },
    }


def _integration_response(integration: str, key: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::IntegrationResponse",
        "Properties": {
            "ApiId": {"Ref": API},
            "IntegrationId": {"Ref": integration},
            "IntegrationResponseKey": key,
            **props,
        },
    }


async def _frame(client: ClientConnection, wait_s: float = 5.0) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), wait_s))


async def _silent(client: ClientConnection, wait_s: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.recv(), wait_s)


def email_api(with_default_model: bool = False) -> dict[str, Any]:
    """The documented validation example: ``sendMessage`` validated by ``messageType``."""
    template = http_api()
    resources = template["Resources"]
    models = {"email": "emailModel"}
    if with_default_model:
        models["$default"] = "anyModel"
        resources["AnyModel"] = _model("anyModel", {"type": "object"})
    resources["SendIntegration"] = http_integration("/send")
    resources["SendRoute"] = _route(
        "sendMessage",
        "SendIntegration",
        ModelSelectionExpression="${request.body.messageType}",
        RequestModels=models,
    )
    resources["EmailModel"] = _model("emailModel", EMAIL_MODEL)
    return template


async def test_braced_model_selection_validates_the_documented_example(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-request-validation.html
    ("emailModel", expression ``${request.body.messageType}``): no address -> Invalid request
    body, the backend is not called; with an address the message goes through."""
    running = await gateway(email_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "sendMessage", "messageType": "email"}))
        assert (await _frame(client))["message"] == "Invalid request body"
        good = {"action": "sendMessage", "messageType": "email", "address": "a@example.com"}
        await client.send(json.dumps(good))
        call = await backend.wait_for("/send")
    assert json.loads(call.body["body"]) == good
    assert backend.paths().count("/send") == 1


async def test_no_matching_model_and_no_default_model_fails_validation(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """Same page: "If there is no matching model and $default isn't defined, the validation
    fails." With a ``$default`` model the same message is validated against it instead."""
    running = await gateway(email_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "sendMessage", "messageType": "sms"}))
        assert (await _frame(client))["message"] == "Invalid request body"
        await client.send(json.dumps({"action": "sendMessage"}))
        assert (await _frame(client))["message"] == "Invalid request body"
    assert "/send" not in backend.paths()

    running = await gateway(email_api(with_default_model=True))
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "sendMessage", "messageType": "sms"}))
        await backend.wait_for("/send")


async def test_model_patterns_are_ecma_262(gateway: GatewayFactory, backend: Backend) -> None:
    """Draft-04 ``pattern`` is ECMA-262, where ``$`` does not match before a final newline
    (Python's ``re`` does). Models are draft-04:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-request-validation.html"""
    template = http_api()
    schema = {"type": "object", "properties": {"text": {"pattern": "^[a-z]+$"}}}
    template["Resources"]["SayModel"]["Properties"]["Schema"] = schema
    running = await gateway(template)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "room\n"}))
        assert (await _frame(client))["message"] == "Invalid request body"
        await client.send(json.dumps({"action": "say", "text": "room"}))
        await backend.wait_for("/say")
    assert backend.paths().count("/say") == 1


async def test_template_selection_by_request_body(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """``TemplateSelectionExpression: ${request.body.kind}`` picks ``RequestTemplates[kind]``,
    else ``$default``:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-selection-expressions.html
    """
    template = http_api()
    props = template["Resources"]["SayIntegration"]["Properties"]
    props["TemplateSelectionExpression"] = "${request.body.kind}"
    props["RequestTemplates"] = {
        "shout": '{"t": "shout", "n": $input.path(\'$.items\').size()}',
        "$default": '{"t": "default"}',
    }
    running = await gateway(template)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "say", "text": "a", "kind": "shout", "items": [1]}))
        assert (await backend.wait_for("/say")).body == {"t": "shout", "n": 1}
        backend.calls.clear()
        await client.send(json.dumps({"action": "say", "text": "b", "kind": "other"}))
        assert (await backend.wait_for("/say")).body == {"t": "default"}


async def test_request_parameters_into_headers_and_query_string(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """Every source of the data-mapping table into both targets:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html
    (``route.request.header``/``querystring`` are ``$connect``-only sources)."""
    template = http_api()
    resources = template["Resources"]
    resources["EchoIntegration"]["Properties"]["RequestParameters"] = {
        "integration.request.querystring.action": "route.request.body.action",
        "integration.request.querystring.room": "route.request.body.room.name",
        "integration.request.header.X-Region": "stageVariables.region",
        "integration.request.header.X-Connection": "context.connectionId",
        "integration.request.header.X-Static": "'fixed value'",
        "integration.request.querystring.absent": "route.request.body.nothere",
    }
    resources["ConnectIntegration"]["Properties"]["RequestParameters"] = {
        "integration.request.header.X-Client": "route.request.header.x-client",
        "integration.request.querystring.token": "route.request.querystring.token",
    }
    running = await gateway(template)
    url = running.url + "?token=abc"
    async with connect(url, additional_headers=KEYED | {"X-Client": "cli"}) as client:
        await client.send(json.dumps({"action": "echo", "room": {"name": "lobby"}}))
        await _frame(client)
    connect_call = await backend.wait_for("/connect")
    assert connect_call.headers["X-Client"] == "cli"
    assert connect_call.query == {"token": "abc"}
    echo = await backend.wait_for("/echo")
    assert echo.query == {"action": "echo", "room": "lobby"}
    assert echo.headers["X-Region"] == "us-east-1"
    assert echo.headers["X-Connection"] == connect_call.body["connectionId"]
    assert echo.headers["X-Static"] == "fixed value"


def _responses_api(status_templates: bool) -> dict[str, Any]:
    """``echo`` (two-way) and ``say`` (one-way) with ``/2\\d\\d/`` and ``$default`` responses."""
    template = http_api()
    resources = template["Resources"]
    for integration in ("EchoIntegration", "SayIntegration"):
        resources[f"{integration}Ok"] = _integration_response(
            integration,
            "/2\\d\\d/",
            ResponseTemplates={"$default": "{\"ok\": $input.json('$.path')}"},
            TemplateSelectionExpression="\\$default",
        )
        templates = {"$default": '{"unexpected": "$context.routeKey"}'}
        selection = "\\$default"
        if status_templates:
            templates["503"] = '{"retry": true, "was": $input.json(\'$.path\')}'
            selection = "${integration.response.statuscode}"
        resources[f"{integration}Default"] = _integration_response(
            integration,
            "$default",
            ResponseTemplates=templates,
            TemplateSelectionExpression=selection,
        )
    return template


async def test_default_integration_response_maps_a_5xx_on_a_two_way_route(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """``$default`` is the catch-all integration response, for any status the other keys do not
    match; its mapped result is what a two-way route sends:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-responses.html
    """
    running = await gateway(_responses_api(status_templates=False))
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "echo"}))
        assert await _frame(client) == {"ok": "/echo"}
        backend.status["/echo"] = 502
        await client.send(json.dumps({"action": "echo"}))
        assert await _frame(client) == {"unexpected": "echo"}


async def test_response_template_selection_by_status_code(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """``IntegrationResponse.TemplateSelectionExpression`` supports
    ``${integration.response.statuscode}``:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-selection-expressions.html
    """
    running = await gateway(_responses_api(status_templates=True))
    async with connect(running.url, additional_headers=KEYED) as client:
        backend.status["/echo"] = 503
        await client.send(json.dumps({"action": "echo"}))
        assert await _frame(client) == {"retry": True, "was": "/echo"}
        backend.status["/echo"] = 500
        await client.send(json.dumps({"action": "echo"}))
        assert await _frame(client) == {"unexpected": "echo"}


async def test_one_way_routes_send_nothing_for_any_integration_response(
    gateway: GatewayFactory, backend: Backend
) -> None:
    """A route is one-way unless it has a route response; then nothing from the integration is
    sent back, whatever its status:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
    """
    running = await gateway(_responses_api(status_templates=False))
    async with connect(running.url, additional_headers=KEYED) as client:
        for status in (200, 404, 500):
            backend.status["/say"] = status
            await client.send(json.dumps({"action": "say", "text": str(status)}))
            await _silent(client)
        await client.send(json.dumps({"action": "echo"}))
        assert await _frame(client) == {"ok": "/echo"}  # still open and answering
    assert backend.paths().count("/say") == 3


def test_a_route_naming_an_undeclared_model_is_refused_at_load() -> None:
    """API Gateway refuses such a route at deployment; the gateway says which one, up front."""
    from wsgate.gateway.intrinsics import UnsupportedTemplateError
    from wsgate.gateway.template_loader import load_api

    template = email_api()
    template["Resources"]["SendRoute"]["Properties"]["RequestModels"] = {"email": "nope"}
    with pytest.raises(UnsupportedTemplateError, match="nope"):
        load_api(template)


async def test_a_broken_response_template_is_an_error_frame_not_a_crash(
    gateway: GatewayFactory, backend: Backend
) -> None:
    template = http_api()
    template["Resources"]["EchoBroken"] = _integration_response(
        "EchoIntegration",
        "$default",
        ResponseTemplates={"$default": "$input.path('$.[')"},
        TemplateSelectionExpression="\\$default",
    )
    running = await gateway(template)
    async with connect(running.url, additional_headers=KEYED) as client:
        await client.send(json.dumps({"action": "echo"}))
        assert (await _frame(client))["message"] == "Internal server error"
        await client.send(json.dumps({"action": "say", "text": "still open"}))
        await backend.wait_for("/say")
