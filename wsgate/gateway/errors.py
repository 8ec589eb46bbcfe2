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

HANDSHAKE_BODIES = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
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
