"""The event an ``AWS_PROXY`` integration hands a Lambda function on a WebSocket route.

Built from the request's ``$context`` (the same dict request templates and access logs read),
so the two cannot disagree. Field by field it follows the events API Gateway sends, as captured
in aws-powertools/powertools-lambda-python ``tests/events/apiGatewayWebSocketApi{Connect,
Message,Disconnect}.json`` and listed in
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html:

- CONNECT: ``headers`` / ``multiValueHeaders`` (the handshake's), ``queryStringParameters`` /
  ``multiValueQueryStringParameters`` when a query string was sent, no ``body``;
- MESSAGE: ``body`` (the frame's text), no headers; ``requestContext.messageId``;
- DISCONNECT: API Gateway's fixed four headers; ``disconnectStatusCode`` / ``disconnectReason``.

``requestContext.authorizer`` is present when the connection was authorized (``principalId``
and the authorizer's context values, stringified).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONTEXT_FIELDS = (
    "routeKey",
    "messageId",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "disconnectStatusCode",
    "disconnectReason",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
)
"""The ``requestContext`` keys API Gateway sends, in its order; absent values are left out."""


def request_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """``requestContext`` from ``$context``: only the keys AWS sends, identity trimmed."""
    result = {key: context[key] for key in CONTEXT_FIELDS if context.get(key) is not None}
    identity = context.get("identity") or {}
    result["identity"] = {
        key: identity[key] for key in ("sourceIp", "userAgent") if identity.get(key) is not None
    }
    authorizer = context.get("authorizer")
    if authorizer:
        result["authorizer"] = dict(authorizer)
    return result


def _multi(values: Mapping[str, str]) -> dict[str, list[str]]:
    return {key: [value] for key, value in values.items()}


def disconnect_headers(domain_name: str) -> dict[str, str]:
    """What API Gateway puts in a ``$disconnect`` event: the host, and three empty headers."""
    return {"Host": domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}


def proxy_event(
    context: Mapping[str, Any],
    body: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
) -> dict[str, Any]:
    """The Lambda proxy event for one ``$connect``, message or ``$disconnect``."""
    event_type = context.get("eventType")
    event: dict[str, Any] = {}
    if event_type == "CONNECT":
        event["headers"] = dict(headers)
        event["multiValueHeaders"] = _multi(headers)
        if query:
            event["queryStringParameters"] = dict(query)
            event["multiValueQueryStringParameters"] = _multi(query)
    elif event_type == "DISCONNECT":
        fixed = disconnect_headers(str(context.get("domainName", "")))
        event["headers"] = fixed
        event["multiValueHeaders"] = _multi(fixed)
    event["requestContext"] = request_context(context)
    if event_type == "MESSAGE":
        event["body"] = body
    event["isBase64Encoded"] = False
    return event
