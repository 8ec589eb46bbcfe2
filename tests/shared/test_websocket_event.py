"""``WebSocketEvent[Model]``: the proxy event with its body parsed by the route's model."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.client_messages import JoinRoom, ListRooms
from shared.websocket_event import WebSocketEvent, proxy_response


def _event(body: str, **extra: Any) -> dict[str, Any]:
    """The shape of the MESSAGE event captured in aws-powertools/powertools-lambda-python
    ``tests/events/apiGatewayWebSocketApiMessage.json``."""
    return {
        "requestContext": {
            "routeKey": "joinroom",
            "messageId": "BFaVtfGSIAMCKug=",
            "eventType": "MESSAGE",
            "extendedRequestId": "BFaVtH2HoAMFZEQ=",
            "requestTime": "11/Nov/2024:13:45:46 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1731332735513,
            "requestTimeEpoch": 1731332746514,
            "identity": {"sourceIp": "166.90.225.1"},
            "requestId": "BFaVtH2HoAMFZEQ=",
            "domainName": "asasasas.execute-api.us-east-1.amazonaws.com",
            "connectionId": "BFaT_fALIAMCKug=",
            "apiId": "asasasas",
        },
        "body": body,
        "isBase64Encoded": False,
        **extra,
    }


def test_body_is_parsed_into_the_routes_model() -> None:
    event = WebSocketEvent[JoinRoom].model_validate(
        _event(json.dumps({"action": "joinroom", "roomname": "developers"}))
    )
    assert event.body == JoinRoom(action="joinroom", roomname="developers")
    assert event.connection_id == "BFaT_fALIAMCKug="
    assert event.route_key == "joinroom"
    context = event.request_context
    assert context.event_type == "MESSAGE" and context.message_id == "BFaVtfGSIAMCKug="
    assert context.identity.source_ip == "166.90.225.1" and context.identity.user_agent is None
    assert context.callback_url == "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"
    assert context.authorizer is None


def test_base64_bodies_are_decoded_first() -> None:
    raw = base64.b64encode(b'{"action": "listrooms"}').decode()
    event = WebSocketEvent[ListRooms].model_validate(_event(raw, isBase64Encoded=True))
    assert event.body == ListRooms(action="listrooms")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "body is not JSON"),
        ('{"action": "joinroom", "roomname": "no spaces"}', "String should match pattern"),
        ('{"action": "joinroom"}', "Field required"),
    ],
)
def test_a_body_the_model_refuses_is_a_validation_error(body: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        WebSocketEvent[JoinRoom].model_validate(_event(body))


def test_unknown_fields_api_gateway_adds_later_are_kept() -> None:
    event = WebSocketEvent[ListRooms].model_validate(
        _event('{"action": "listrooms"}', futureField=1)
    )
    assert event.model_extra == {"futureField": 1}


def test_proxy_response_shape() -> None:
    assert proxy_response(200) == {"statusCode": 200}
    assert proxy_response(400, "x") == {"statusCode": 400, "body": "x"}
