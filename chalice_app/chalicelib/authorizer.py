"""The ``$connect`` REQUEST authorizer's logic: find the token, verify it, build the policy.

API Gateway's contract (see the reference notes, section 5): raising ``Exception("Unauthorized")``
makes the handshake fail with 401 (no credentials), a ``Deny`` policy with 403 (bad
credentials), and an ``Allow`` policy lets the connection continue with ``principalId`` and
``context`` available to every later request template as ``$context.authorizer.*``.
"""

from __future__ import annotations

import logging
from typing import Any

from .tokens import Identity, TokenError, verify_token

log = logging.getLogger("wsgate.authorizer")

UNAUTHORIZED = "Unauthorized"
"""The exact message API Gateway maps to a 401."""
BEARER = "bearer "


class Unauthorized(Exception):
    """No token was presented: API Gateway answers the handshake with 401."""

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED)


def find_token(event: dict[str, Any]) -> str | None:
    """The token from ``Authorization`` (any case, optional ``Bearer``) or ``?token=``.

    API Gateway passes header names as the client sent them, so the lookup ignores case. The
    query string exists for browsers, whose WebSocket API cannot set headers.
    """
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization" and isinstance(value, str) and value.strip():
            token = value.strip()
            if token.lower().startswith(BEARER):
                token = token[len(BEARER) :].strip()
            return token or None
    query = event.get("queryStringParameters") or {}
    from_query = query.get("token")
    if isinstance(from_query, str) and from_query.strip():
        return from_query.strip()
    return None


def policy(
    principal_id: str,
    effect: str,
    resource: str,
    context: dict[str, str] | None = None,
    usage_identifier_key: str | None = None,
) -> dict[str, Any]:
    """An authorizer result in exactly the shape API Gateway expects."""
    result: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        result["context"] = context
    if usage_identifier_key:
        result["usageIdentifierKey"] = usage_identifier_key
    return result


def allow(identity: Identity, method_arn: str) -> dict[str, Any]:
    return policy(
        identity.user_id,
        "Allow",
        method_arn,
        {"userId": identity.user_id, "name": identity.name},
        identity.api_key,
    )


def authorize(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """Decide one ``$connect``. Never logs the token itself, only why it was refused."""
    method_arn = str(event.get("methodArn", ""))
    connection_id = (event.get("requestContext") or {}).get("connectionId")
    token = find_token(event)
    if token is None:
        log.info("no token presented (connection %s)", connection_id)
        raise Unauthorized
    try:
        identity = verify_token(token, secret)
    except TokenError as error:
        log.info("denied connection %s: %s", connection_id, error)
        return policy("unauthorized", "Deny", method_arn)
    log.info("allowed connection %s for user %s", connection_id, identity.user_id)
    return allow(identity, method_arn)
