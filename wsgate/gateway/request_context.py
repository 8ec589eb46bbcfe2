"""``$context`` for one request: what request templates, access logs and authorizers read."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from shared.names import execute_api_host
from wsgate.gateway.ids import request_id as message_id
from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS


def execute_api_domain(api_id: str) -> str:
    """``$context.domainName`` of a request that came in on the API's own endpoint."""
    return execute_api_host(api_id, PSEUDO_PARAMETERS["AWS::Region"])


def request_context(
    *,
    api_id: str,
    stage: str,
    connection_id: str,
    request_id: str,
    route_key: str,
    event_type: str,
    connected_at: int,
    source_ip: str,
    user_agent: str,
    authorizer: dict[str, Any],
    api_key: str | None,
) -> dict[str, Any]:
    """The fields API Gateway documents for WebSocket ``$context`` (and ``requestContext``)."""
    now_ms = int(time.time() * 1000)
    return {
        "connectionId": connection_id,
        "connectedAt": connected_at,
        "domainName": execute_api_domain(api_id),
        "eventType": event_type,
        "messageDirection": "IN",
        "messageId": message_id() if event_type == "MESSAGE" else None,
        "routeKey": route_key,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "apiId": api_id,
        "authorizer": authorizer,
        "identity": {"sourceIp": source_ip, "userAgent": user_agent, "apiKey": api_key},
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000)),
        "requestTimeEpoch": now_ms,
        "stage": stage,
    }


def header_text(value: str) -> str:
    """A header value as templates and authorizers see it, whatever bytes the client sent.

    aiohttp keeps undecodable bytes as lone surrogates, which no UTF-8 writer (a template, a
    log line, an integration request) can encode. HTTP header bytes beyond ASCII are ISO-8859-1
    (RFC 9110 section 5.5): valid UTF-8 is kept as text, anything else is read as ISO-8859-1,
    so byte 0xFF in a User-Agent becomes ``ÿ`` instead of failing the handshake.
    """
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


def request_head_size(request: web.BaseRequest) -> int:
    """Bytes of the request line and header values, the quantity AWS's 10,240-byte limit counts
    (limits.HEADER_LIMIT_BYTES)."""
    line = len(request.method) + len(request.raw_path.encode("utf-8", "surrogateescape")) + 10
    return line + sum(len(value) for _, value in request.raw_headers)
