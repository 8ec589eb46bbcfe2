"""Calling a REQUEST authorizer the way API Gateway does, and reading its answer."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.names import execute_api_arn
from wsgate.gateway import errors
from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS

AuthorizerFunction = Callable[[dict[str, Any], Any], Any]


def load_function(spec: str) -> AuthorizerFunction:
    """``module:attribute`` -> the callable (a Chalice ``@app.lambda_function`` works as is)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"authorizer must be 'module:attribute', got {spec!r}")
    function: AuthorizerFunction = getattr(importlib.import_module(module_name), attribute)
    return function


def request_event(
    *,
    api_id: str,
    stage: str,
    stage_variables: Mapping[str, str],
    headers: dict[str, str],
    query: dict[str, str],
    context: dict[str, Any],
) -> dict[str, Any]:
    """The REQUEST authorizer event of a ``$connect``, in the shape API Gateway sends.

    Headers keep the case the client sent; ``requestContext`` is the route's ``$context``
    without what only exists after authorization (the authorizer's own output, the status).
    """
    region, account = PSEUDO_PARAMETERS["AWS::Region"], PSEUDO_PARAMETERS["AWS::AccountId"]
    request_context = {k: v for k, v in context.items() if k not in ("authorizer", "status")}
    request_context["identity"] = {"sourceIp": context["identity"]["sourceIp"]}
    return {
        "type": "REQUEST",
        "methodArn": execute_api_arn(region, account, f"{api_id}/{stage}/$connect"),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": dict(stage_variables),
        "requestContext": request_context,
    }


@dataclass(frozen=True)
class AuthorizerOutcome:
    """Either ``status`` (the handshake is refused) or the Allow result."""

    status: int | None
    principal_id: str = ""
    context: Mapping[str, str] | None = None
    usage_identifier_key: str | None = None
    error: str = ""


def missing_identity(
    sources: list[str], headers: Mapping[str, str], query: Mapping[str, str]
) -> str | None:
    """The first identity source absent or empty; API Gateway then answers 401 itself."""
    lower_headers = {k.lower(): v for k, v in headers.items()}
    for source in sources:
        if source.startswith("route.request.header."):
            value = lower_headers.get(source.removeprefix("route.request.header.").lower())
        elif source.startswith("route.request.querystring."):
            value = query.get(source.removeprefix("route.request.querystring."))
        else:
            continue  # stage variables and context values are always present locally
        if not value:
            return source
    return None


class LambdaContext:
    """The bits of a Lambda context object authorizers commonly read."""

    function_name = "wsgate-local-authorizer"
    memory_limit_in_mb = 128
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


RESULT_LIMIT_BYTES = 8 * 1024
"""Lambda authorizer result size, a fixed quota: "API Gateway quotas for WebSocket APIs",
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
What the handshake gets when it is exceeded is not documented: it is refused like any other
invalid authorizer response (500, see ``errors.AUTHORIZER_FAILURE_STATUS``)."""


def result_size(result: Any) -> int:
    """The authorizer's answer as the JSON bytes Lambda returns (policy, context and all)."""
    try:
        return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        return 0  # not JSON-serializable: ``interpret`` reports it as malformed


def interpret(result: Any) -> AuthorizerOutcome:
    """Allow -> continue; Deny -> 403; malformed or over 8 KB -> 500 (see ``errors``)."""
    size = result_size(result)
    if size > RESULT_LIMIT_BYTES:
        return AuthorizerOutcome(
            errors.AUTHORIZER_FAILURE_STATUS,
            error=f"authorizer result is {size} bytes, over the {RESULT_LIMIT_BYTES}-byte quota",
        )
    try:
        principal = result["principalId"]
        statements = result["policyDocument"]["Statement"]
        effects = {str(s["Effect"]) for s in statements}
        context = result.get("context") or {}
        if not isinstance(context, dict) or any(
            isinstance(v, (dict, list)) for v in context.values()
        ):
            raise TypeError("context values must be strings, numbers or booleans")
    except (KeyError, TypeError, IndexError) as error:
        return AuthorizerOutcome(errors.AUTHORIZER_FAILURE_STATUS, error=f"malformed: {error!r}")
    if "Deny" in effects or "Allow" not in effects:
        return AuthorizerOutcome(errors.FORBIDDEN_STATUS, error="denied by policy")
    stringified = {
        k: ("true" if v is True else "false" if v is False else str(v)) for k, v in context.items()
    }
    key = result.get("usageIdentifierKey")
    return AuthorizerOutcome(None, str(principal), stringified, str(key) if key else None)


async def invoke(function: AuthorizerFunction, event: dict[str, Any]) -> AuthorizerOutcome:
    """Run the (synchronous, possibly I/O-bound) authorizer off the event loop."""
    try:
        result = await asyncio.to_thread(function, event, LambdaContext())
    except Exception as error:
        if str(error) == "Unauthorized":
            return AuthorizerOutcome(errors.UNAUTHORIZED_STATUS, error="Unauthorized")
        return AuthorizerOutcome(
            errors.AUTHORIZER_FAILURE_STATUS,
            error=f"authorizer raised {type(error).__name__}: {error}",
        )
    return interpret(result)
