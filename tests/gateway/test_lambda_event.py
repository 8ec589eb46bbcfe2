"""The proxy event, field by field, against the events API Gateway sends.

Field sets are those of the events captured from API Gateway in
aws-powertools/powertools-lambda-python ``tests/events/apiGatewayWebSocketApi{Connect,Message,
Disconnect}.json`` (reference notes section 4.7), and the ``$context`` variables of
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
"""

from __future__ import annotations

from typing import Any

import pytest

from wsgate.gateway.lambda_event import proxy_event
from wsgate.gateway.request_context import request_context

COMMON_CONTEXT = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}
CAPTURED = {
    "CONNECT": (
        {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"},
        COMMON_CONTEXT,
    ),
    "MESSAGE": ({"requestContext", "body", "isBase64Encoded"}, COMMON_CONTEXT | {"messageId"}),
    "DISCONNECT": (
        {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"},
        COMMON_CONTEXT | {"disconnectStatusCode", "disconnectReason"},
    ),
}
ROUTE_KEYS = {"CONNECT": "$connect", "MESSAGE": "chat", "DISCONNECT": "$disconnect"}


def _context(event_type: str, authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    context = request_context(
        api_id="abcdef1234",
        stage="prod",
        connection_id="BFaT_fALIAMCKug=",
        request_id="BFaVtH2HoAMFZEQ=",
        route_key=ROUTE_KEYS[event_type],
        event_type=event_type,
        connected_at=1731332735513,
        source_ip="166.90.225.1",
        user_agent="wscat",
        authorizer=authorizer or {},
        api_key=None,
    )
    if event_type == "DISCONNECT":
        context |= {"disconnectStatusCode": 1005, "disconnectReason": "Client-side close"}
    return context


HANDSHAKE = {
    "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
    "Sec-WebSocket-Version": "13",
}


@pytest.mark.parametrize("event_type", list(CAPTURED))
def test_fields_are_those_api_gateway_sends(event_type: str) -> None:
    event = proxy_event(_context(event_type), '{"action":"chat"}', HANDSHAKE, {})
    top, context_fields = CAPTURED[event_type]
    assert set(event) == top
    assert set(event["requestContext"]) == context_fields
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["eventType"] == event_type
    assert context["routeKey"] == ROUTE_KEYS[event_type]
    assert context["requestId"] == context["extendedRequestId"]
    assert context["messageDirection"] == "IN"
    assert context["identity"] == {"sourceIp": "166.90.225.1", "userAgent": "wscat"}
    assert isinstance(context["connectedAt"], int) and isinstance(context["requestTimeEpoch"], int)
    assert context["domainName"] == "abcdef1234.execute-api.us-east-1.amazonaws.com"


def test_message_body_is_the_frame_text_and_messageid_is_set() -> None:
    event = proxy_event(_context("MESSAGE"), '{"action":"chat","n":1}', {}, {})
    assert event["body"] == '{"action":"chat","n":1}'
    assert event["requestContext"]["messageId"]


def test_connect_carries_handshake_headers_and_the_query_string_when_sent() -> None:
    event = proxy_event(_context("CONNECT"), "", HANDSHAKE, {"token": "t"})
    assert event["headers"] == HANDSHAKE
    assert event["multiValueHeaders"] == {k: [v] for k, v in HANDSHAKE.items()}
    assert event["queryStringParameters"] == {"token": "t"}
    assert event["multiValueQueryStringParameters"] == {"token": ["t"]}


def test_disconnect_headers_are_api_gateways_fixed_four() -> None:
    event = proxy_event(_context("DISCONNECT"), "", HANDSHAKE, {})
    assert event["headers"] == {
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "x-api-key": "",
        "X-Forwarded-For": "",
        "x-restapi": "",
    }
    assert event["requestContext"]["disconnectStatusCode"] == 1005


def test_authorizer_output_is_passed_when_the_connection_was_authorized() -> None:
    authorized = {"principalId": "alice", "userId": "alice", "admin": "true"}
    event = proxy_event(_context("MESSAGE", authorized), "{}", {}, {})
    assert event["requestContext"]["authorizer"] == authorized
