"""Calling an integration: request template, request parameters, HTTP or MOCK, responses."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from wsgate.gateway import errors
from wsgate.gateway.selection import evaluate
from wsgate.gateway.template_loader import Integration
from wsgate.gateway.vtl import render


@dataclass(frozen=True)
class IntegrationResult:
    status: int | None
    """The backend's (or MOCK template's) status; None when the call itself failed."""
    body: str
    """What a two-way route sends back (after the integration response template)."""
    error_frame: str | None = None
    """The AWS error text to send the client, when the call failed."""
    log_error: str | None = None
    endpoint_request: str = ""


class VtlVariables:
    """What a template sees: ``$context``, ``$stageVariables``, ``$input`` (body + params)."""

    def __init__(
        self,
        context: dict[str, Any],
        stage_variables: dict[str, str],
        body: str,
        headers: dict[str, str],
        query: dict[str, str],
    ) -> None:
        self.context = context
        self.stage_variables = stage_variables
        self.body = body
        self.headers = headers
        self.query = query

    def render(self, template: str, body: str | None = None) -> str:
        return render(
            template,
            context=self.context,
            stage_variables=self.stage_variables,
            body=self.body if body is None else body,
            params={"header": self.headers, "querystring": self.query, "path": {}},
        )

    def parameter(self, expression: str) -> str | None:
        """A request-parameter source: ``context.x``, ``route.request.header.x``, ``'lit'``."""
        if expression.startswith("'") and expression.endswith("'"):
            return expression[1:-1]
        if expression.startswith("context."):
            value: Any = self.context
            for part in expression.removeprefix("context.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else str(value)
        if expression.startswith("route.request.header."):
            name = expression.removeprefix("route.request.header.").lower()
            return next((v for k, v in self.headers.items() if k.lower() == name), None)
        if expression.startswith("route.request.querystring."):
            return self.query.get(expression.removeprefix("route.request.querystring."))
        if expression.startswith("stageVariables."):
            return self.stage_variables.get(expression.removeprefix("stageVariables."))
        return None


def _select_template(templates: dict[str, str], selection: str | None, body: Any) -> str | None:
    if not templates:
        return None
    key = evaluate(selection, body) if selection else "$default"
    return templates.get(key or "") or templates.get("$default")


def _response_key(keys: list[str], status: int) -> str | None:
    """Integration response selection: ``/regex/`` keys on the status, else ``$default``."""
    for key in keys:
        if key.startswith("/") and key.endswith("/") and re.fullmatch(key[1:-1], str(status)):
            return key
    return "$default" if "$default" in keys else None


def _respond(integration: Integration, status: int, body: str, variables: VtlVariables) -> str:
    key = _response_key(list(integration.responses), status)
    if key is None:
        return body
    response = integration.responses[key]
    template = _select_template(response.templates, response.template_selection, None)
    return variables.render(template, body=body) if template is not None else body


async def call(
    integration: Integration,
    variables: VtlVariables,
    session: aiohttp.ClientSession,
    *,
    proxy_event: dict[str, Any] | None = None,
) -> IntegrationResult:
    template = _select_template(integration.request_templates, integration.template_selection, None)
    if integration.type == "HTTP_PROXY":
        payload = variables.body
    elif template is not None:
        try:
            payload = variables.render(template)
        except Exception as error:  # a broken template is a configuration error, not a crash
            return IntegrationResult(
                None,
                "",
                errors.INTERNAL_SERVER_ERROR,
                f"Execution failed due to configuration error: template rendering: {error}",
            )
    else:
        payload = variables.body

    if integration.type == "MOCK":
        try:
            status = json.loads(payload)["statusCode"]
            if not isinstance(status, int):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return IntegrationResult(
                None, "", errors.INTERNAL_SERVER_ERROR, errors.MOCK_WITHOUT_STATUS, payload
            )
        return IntegrationResult(
            status, _respond(integration, status, "", variables), None, None, payload
        )

    headers = {"Content-Type": "application/json"}
    for target, source in integration.request_parameters.items():
        if target.startswith("integration.request.header."):
            value = variables.parameter(source)
            if value is not None:
                headers[target.removeprefix("integration.request.header.")] = value
    assert integration.uri is not None
    try:
        async with asyncio.timeout(integration.timeout_s):
            async with session.request(
                integration.method,
                integration.uri,
                data=payload.encode("utf-8", "replace"),
                headers=headers,
            ) as response:
                body = await response.text()
                status = response.status
    except TimeoutError:
        return IntegrationResult(
            None,
            "",
            errors.ENDPOINT_TIMED_OUT,
            f"Execution failed due to a timeout error ({integration.timeout_s:.0f}s)",
            payload,
        )
    except aiohttp.ClientError as error:
        return IntegrationResult(
            None,
            "",
            errors.INTERNAL_SERVER_ERROR,
            f"Execution failed due to an error calling {integration.uri}: {error}",
            payload,
        )
    if status >= 500 and integration.type == "HTTP":
        return IntegrationResult(
            status,
            body,
            errors.INTERNAL_SERVER_ERROR,
            f"Endpoint response status {status}: {body[:200]}",
            payload,
        )
    if integration.type == "HTTP_PROXY":
        return IntegrationResult(status, body, None, None, payload)
    return IntegrationResult(
        status, _respond(integration, status, body, variables), None, None, payload
    )
