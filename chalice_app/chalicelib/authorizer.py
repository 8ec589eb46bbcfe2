"""The ``$connect`` REQUEST authorizer's logic: find the token, verify it, build the policy.

API Gateway's contract (see the reference notes, section 5): raising ``Exception("Unauthorized")``
makes the handshake fail with 401 (no credentials), a ``Deny`` policy with 403 (bad
credentials), and an ``Allow`` policy lets the connection continue with ``principalId`` and
``context`` available to every later request template as ``$context.authorizer.*``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from shared.names import ENV_TOKEN_AUDIENCE, ENV_TOKEN_ISSUER, TOKEN_AUDIENCE, TOKEN_ISSUER

from .secret_parameter import SecretRing
from .tokens import Identity, SignatureMismatch, TokenError, verify_token

log = logging.getLogger("wsgate.authorizer")

UNAUTHORIZED = "Unauthorized"
"""The exact message API Gateway maps to a 401."""
BEARER = "bearer"


class Unauthorized(Exception):
    """No token was presented: API Gateway answers the handshake with 401."""

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED)


def _header_token(headers: dict[str, Any]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "authorization" and isinstance(value, str):
            token = value.strip()
            if token.lower().startswith(BEARER) and (
                len(token) == len(BEARER) or token[len(BEARER)].isspace()
            ):
                token = token[len(BEARER) :].strip()
            if token:
                return token
    return None


def find_token(event: dict[str, Any]) -> str | None:
    """The token from ``Authorization`` (any case, optional ``Bearer``) or ``?token=``.

    API Gateway passes header names as the client sent them, so the lookup ignores case. The
    query string exists for browsers, whose WebSocket API cannot set headers; it is also tried
    when the header is present but empty (``Bearer`` and nothing else), which is then "no
    token" (401), not a bad one (403).
    """
    token = _header_token(event.get("headers") or {})
    if token is not None:
        return token
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


def expected_issuer() -> str:
    return os.environ.get(ENV_TOKEN_ISSUER, TOKEN_ISSUER)


def expected_audience() -> str:
    return os.environ.get(ENV_TOKEN_AUDIENCE, TOKEN_AUDIENCE)


def _verify(token: str, ring: SecretRing) -> Identity:
    """Verify against the cached secrets; on an unknown signature re-read SSM once and retry."""
    issuer, audience = expected_issuer(), expected_audience()
    try:
        return verify_token(token, ring.secrets(), issuer=issuer, audience=audience)
    except SignatureMismatch:
        if not ring.refresh_after_mismatch():
            raise
    return verify_token(token, ring.secrets(), issuer=issuer, audience=audience)


def authorize(event: dict[str, Any], ring: SecretRing) -> dict[str, Any]:
    """Decide one ``$connect``. Never logs the token itself, only why it was refused."""
    method_arn = str(event.get("methodArn", ""))
    connection_id = (event.get("requestContext") or {}).get("connectionId")
    token = find_token(event)
    if token is None:
        log.info("no token presented (connection %s)", connection_id)
        raise Unauthorized
    try:
        identity = _verify(token, ring)
    except TokenError as error:
        log.info("denied connection %s: %s", connection_id, error)
        return policy("unauthorized", "Deny", method_arn)
    log.info("allowed connection %s for user %s", connection_id, identity.user_id)
    return allow(identity, method_arn)
