"""Every text and status the gateway shows a client, in one place, with the choices we made.

Where the reference notes say UNCONFIRMED, the choice is marked here; change it here only.
"""

from __future__ import annotations

import json

# Error frames sent to a connected client: {"message", "connectionId", "requestId"}.
FORBIDDEN = "Forbidden"
"""No route matched and the API has no ``$default`` route."""
INVALID_REQUEST_BODY = "Invalid request body"
"""Model validation failed (the current AWS doc text; the 2020 doc said "Bad request body")."""
INTERNAL_SERVER_ERROR = "Internal server error"
"""The integration failed. UNCONFIRMED choice: a connection error, or a 5xx from a non-proxy
HTTP integration, produces this frame; a 4xx produces no frame (AWS's default integration
response passes it on as a normal response, which one-way routes do not send)."""
ENDPOINT_TIMED_OUT = "Endpoint request timed out"
TOO_MANY_REQUESTS = "Too Many Requests"
"""Throttled message (stage or route throttling). UNCONFIRMED as a WebSocket frame text; it is
the HTTP body API Gateway returns when throttling."""

# Handshake statuses.
UNAUTHORIZED_STATUS = 401
FORBIDDEN_STATUS = 403
THROTTLED_STATUS = 429
AUTHORIZER_FAILURE_STATUS = 500
"""UNCONFIRMED for WebSocket: the REST behaviour for a failing or malformed authorizer."""
QUOTA_STATUS = 429
"""UNCONFIRMED for WebSocket: REST's QUOTA_EXCEEDED (body "Limit Exceeded")."""

HEADERS_TOO_LARGE_STATUS = 431
"""Request line and headers over ``limits.HEADER_LIMIT_BYTES``. UNCONFIRMED: AWS documents the
limit for REST APIs, not the status; 431 is RFC 6585's. The header is never echoed or logged."""

HANDSHAKE_BODIES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
    500: "Internal server error",
}

# Close codes.
CLOSE_UNSUPPORTED_DATA = 1003
"""Binary frames are not supported."""
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_GOING_AWAY = 1001
"""Idle timeout and maximum duration. UNCONFIRMED: the code AWS sends then."""
CLOSE_NORMAL = 1000
"""``DELETE @connections/{id}``."""
CLOSE_PROTOCOL_ERROR = 1002
"""A frame that breaks RFC 6455 (unmasked client frame, unknown opcode, reserved bits, bad
fragmentation): RFC 6455 sections 5.1 and 7.4.1."""
CLOSE_INVALID_DATA = 1007
"""A text message that is not UTF-8: RFC 6455 section 8.1. UNCONFIRMED for API Gateway."""
CLOSE_ABNORMAL = 1006
"""Never sent on the wire (RFC 6455 section 7.4.1): what ``$disconnect`` reports when the
connection ended without a close frame either way."""
CLOSE_SLOW_CONSUMER = 1008
"""A client whose send queue overflows (``limits.SEND_QUEUE_BYTES``) is disconnected with this
code. UNCONFIRMED: AWS documents nothing here. 1008 (policy violation) because the client broke
the one rule the gateway has for it, reading what it is sent; 1011 would blame the server and
1001 would hide that the client can fix it."""
SLOW_CONSUMER_REASON = "Send queue full: the client is not reading"
FRAME_TOO_BIG_REASON = "Frame too big"
MESSAGE_TOO_BIG_REASON = "Message too big"

# Execution-log texts (CloudWatch).
MOCK_WITHOUT_STATUS = (
    "Execution failed due to configuration error: "
    "statusCode should be an integer which defined in request template"
)
MODEL_MISMATCH = "Request body does not match model schema for content type application/json: "
UNPARSEABLE_BODY = "Unknown error parsing request body"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """An error frame exactly as API Gateway writes it."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})
