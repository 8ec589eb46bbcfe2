"""A Lambda integration's answer as API Gateway turns it into a route response or an error.

- ``AWS_PROXY``: the function gets the WebSocket proxy event (``lambda_event``); its
  ``statusCode`` decides a ``$connect`` (non-2xx refuses the handshake with that status) and
  its ``body`` is what a two-way route sends back. There is no integration response.
- ``AWS``: the function gets what the request template renders; its JSON result goes through
  the integration response like an HTTP backend's body, with status 200.
- A function error (exception, crash, its own timeout) is ``Internal server error``; the caller
  giving up first (``TimeoutInMillis`` below the function's timeout) is ``Endpoint request timed
  out``: section 2.2 of the reference notes.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from wsgate.gateway import errors
from wsgate.gateway.integration import (
    IntegrationResult,
    VtlVariables,
    _finish,
    _request_payload,
)
from wsgate.gateway.lambda_event import proxy_event
from wsgate.gateway.lambda_runtime import Invocation, runtime
from wsgate.gateway.template_loader import Integration

CONNECT_FUNCTION_ERROR_STATUS = 502


def proxy_answer(result: Any) -> tuple[int, str]:
    """``(statusCode, body)`` from a proxy function's return value.

    UNCONFIRMED for WebSocket APIs: a result that is not an object (``None`` from a handler
    without ``return``) is read as 200 with no body, which is what Chalice does for its
    WebSocket handlers; a missing ``statusCode`` is 200 for the same reason."""
    if not isinstance(result, dict):
        return 200, "" if result is None else json.dumps(result)
    status = int(result.get("statusCode", 200))
    body = result.get("body")
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    if result.get("isBase64Encoded") and text:
        text = base64.b64decode(text).decode("utf-8", errors="replace")
    return status, text


def _failure(invocation: Invocation, integration: Integration, payload: str) -> IntegrationResult:
    spec = integration.function
    name = spec.name if spec is not None else "?"
    if invocation.cut_off:
        return IntegrationResult(
            None,
            "",
            errors.ENDPOINT_TIMED_OUT,
            f"Execution failed due to a timeout error ({integration.timeout_s:.0f}s)",
            payload,
        )
    if invocation.timed_out:
        why = f"Task timed out after {spec.timeout_s if spec else 0:.2f} seconds"
    else:
        error = invocation.error or {}
        why = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
    return IntegrationResult(
        None,
        "",
        errors.INTERNAL_SERVER_ERROR,
        f"Lambda execution failed with status 200 due to customer function error: {why} "
        f"(function {name})",
        payload,
    )


async def call_lambda(integration: Integration, variables: VtlVariables) -> IntegrationResult:
    """Invoke the integration's function with the event its type prescribes."""
    assert integration.function is not None
    if integration.type == "AWS_PROXY":
        event: Any = proxy_event(
            variables.context, variables.body, variables.headers, variables.query
        )
        payload = json.dumps(event)
    else:
        rendered = _request_payload(integration, variables)
        if isinstance(rendered, IntegrationResult):
            return rendered
        payload = rendered
        try:
            event = json.loads(payload)
        except ValueError:
            event = payload
    invocation = await runtime().invoke(integration.function, event, integration.timeout_s)
    if invocation.result is None and (
        invocation.error or invocation.timed_out or invocation.cut_off
    ):
        if variables.context.get("eventType") == "CONNECT" and not invocation.cut_off:
            # UNCONFIRMED (observed by a third party, reference notes section 2.1): a failing
            # $connect function refuses the handshake with 502, not the 500 of an authorizer.
            return IntegrationResult(CONNECT_FUNCTION_ERROR_STATUS, "", None, None, payload)
        return _failure(invocation, integration, payload)
    if integration.type == "AWS_PROXY":
        try:
            status, body = proxy_answer(invocation.result)
        except (TypeError, ValueError, binascii.Error) as error:
            return IntegrationResult(
                None,
                "",
                errors.INTERNAL_SERVER_ERROR,
                f"Execution failed due to configuration error: Malformed Lambda proxy response "
                f"({error})",
                payload,
            )
        return IntegrationResult(status, body, None, None, payload)
    return _finish(integration, 200, json.dumps(invocation.result), variables, {}, payload)
