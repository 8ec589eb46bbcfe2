"""Calling an integration: request template, request parameters, HTTP or MOCK, responses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from wsgate.gateway import errors
from wsgate.gateway.selection import (
    NOT_JSON,
    SelectionInput,
    body_value,
    parse_body,
    select_key,
    select_response_key,
    stringify,
)
from wsgate.gateway.template_loader import Integration
from wsgate.gateway.vtl import render

HEADER_TARGET = "integration.request.header."
QUERY_TARGET = "integration.request.querystring."


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
        document: Any = None,
    ) -> None:
        self.context = context
        self.stage_variables = stage_variables
        self.body = body
        self.headers = headers
        self.query = query
        if document is not None:
            self.__dict__["document"] = document

    @cached_property
    def document(self) -> Any:
        """The message parsed once: given by a caller that already parsed it for route
        selection, else parsed when a selection expression or parameter first needs it."""
        return parse_body(self.body) if self.body else NOT_JSON

    def render(self, template: str, body: str | None = None) -> str:
        return render(
            template,
            context=self.context,
            stage_variables=self.stage_variables,
            body=self.body if body is None else body,
            params={"header": self.headers, "querystring": self.query, "path": {}},
        )

    def selection(
        self, status: int | None = None, response_headers: Mapping[str, str] | None = None
    ) -> SelectionInput:
        """The variables a selection expression reads at this point of the request."""
        return SelectionInput(
            body=self.document,
            status=status,
            response_headers=response_headers or {},
            context=self.context,
            stage_variables=self.stage_variables,
        )

    def parameter(self, expression: str) -> str | None:
        """A request-parameter source, as the data-mapping table lists them
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html):
        ``'static'``, ``context.x``, ``stageVariables.x``, ``route.request.body.<JSONPath>``,
        and ``route.request.header.x`` / ``route.request.querystring.x`` (``$connect`` only:
        later messages carry no headers or query string). None when the source is absent."""
        if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
            return expression[1:-1]
        if expression.startswith("context."):
            value: Any = self.context
            for part in expression.removeprefix("context.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else stringify(value)
        if expression.startswith("route.request.body."):
            found = body_value(expression.removeprefix("route.request.body."), self.document)
            return None if found is None else stringify(found)
        if expression.startswith("route.request.header."):
            name = expression.removeprefix("route.request.header.").lower()
            return next((v for k, v in self.headers.items() if k.lower() == name), None)
        if expression.startswith("route.request.querystring."):
            return self.query.get(expression.removeprefix("route.request.querystring."))
        if expression.startswith("stageVariables."):
            return self.stage_variables.get(expression.removeprefix("stageVariables."))
        return None


def _select_template(
    templates: dict[str, str], expression: str | None, given: SelectionInput
) -> str | None:
    """The template a ``TemplateSelectionExpression`` picks, else the ``$default`` one."""
    key = select_key(templates, expression, given) if templates else None
    return None if key is None else templates[key]


def _mapped_request(
    integration: Integration, variables: VtlVariables
) -> tuple[dict[str, str], str]:
    """Headers and URL after ``integration.request.header.X`` / ``querystring.X`` mapping."""
    headers = {"Content-Type": "application/json"}
    query: list[tuple[str, str]] = []
    for target, source in integration.request_parameters.items():
        value = variables.parameter(source)
        if value is None:
            continue
        if target.startswith(HEADER_TARGET):
            headers[target.removeprefix(HEADER_TARGET)] = value
        elif target.startswith(QUERY_TARGET):
            query.append((target.removeprefix(QUERY_TARGET), value))
    assert integration.uri is not None
    if not query:
        return headers, integration.uri
    parts = urlsplit(integration.uri)
    joined = "&".join(q for q in (parts.query, urlencode(query)) if q)
    return headers, urlunsplit(parts._replace(query=joined))


def _respond(
    integration: Integration,
    status: int,
    body: str,
    variables: VtlVariables,
    response_headers: Mapping[str, str] | None = None,
) -> str | None:
    """The integration response for ``status``, rendered; None when no response key matches.

    Every status is matched, 5xx included: ``$default`` catches what no ``/regex/`` key does
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-responses.html).
    """
    key = select_response_key(list(integration.responses), status)
    if key is None:
        return None
    response = integration.responses[key]
    given = variables.selection(status, response_headers)
    template = _select_template(response.templates, response.template_selection, given)
    return variables.render(template, body=body) if template is not None else body


def _request_payload(integration: Integration, variables: VtlVariables) -> str | IntegrationResult:
    """The body sent to the integration, or the failure a broken template is."""
    if integration.type == "HTTP_PROXY":
        return variables.body
    template = _select_template(
        integration.request_templates, integration.template_selection, variables.selection()
    )
    if template is None:
        return variables.body
    try:
        return variables.render(template)
    except Exception as error:  # a broken template is a configuration error, not a crash
        return IntegrationResult(
            None,
            "",
            errors.INTERNAL_SERVER_ERROR,
            f"Execution failed due to configuration error: template rendering: {error}",
        )


def _mock(integration: Integration, variables: VtlVariables, payload: str) -> IntegrationResult:
    try:
        status = json.loads(payload)["statusCode"]
        if not isinstance(status, int):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return IntegrationResult(
            None, "", errors.INTERNAL_SERVER_ERROR, errors.MOCK_WITHOUT_STATUS, payload
        )
    return _finish(integration, status, "", variables, {}, payload)


def _finish(
    integration: Integration,
    status: int,
    body: str,
    variables: VtlVariables,
    response_headers: Mapping[str, str],
    payload: str,
) -> IntegrationResult:
    """The integration's answer after its integration response, or the failure it is."""
    try:
        mapped = _respond(integration, status, body, variables, response_headers)
    except Exception as error:  # a broken template is a configuration error, not a crash
        return IntegrationResult(
            status,
            "",
            errors.INTERNAL_SERVER_ERROR,
            f"Execution failed due to configuration error: response template rendering: {error}",
            payload,
        )
    if mapped is None and status >= 500 and integration.type == "HTTP":
        return IntegrationResult(
            status,
            body,
            errors.INTERNAL_SERVER_ERROR,
            f"Endpoint response status {status}: {body[:200]}",
            payload,
        )
    return IntegrationResult(status, body if mapped is None else mapped, None, None, payload)


async def call(
    integration: Integration,
    variables: VtlVariables,
    session: aiohttp.ClientSession,
    *,
    proxy_event: dict[str, Any] | None = None,
) -> IntegrationResult:
    if integration.function is not None:  # AWS_PROXY / AWS: a Lambda function
        from wsgate.gateway.lambda_integration import call_lambda

        return await call_lambda(integration, variables)
    payload = _request_payload(integration, variables)
    if isinstance(payload, IntegrationResult):
        return payload
    if integration.type == "MOCK":
        return _mock(integration, variables, payload)
    headers, url = _mapped_request(integration, variables)
    try:
        async with asyncio.timeout(integration.timeout_s):
            async with session.request(
                integration.method, url, data=payload.encode("utf-8", "replace"), headers=headers
            ) as response:
                body = await response.text()
                status = response.status
                response_headers = dict(response.headers)
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
            f"Execution failed due to an error calling {url}: {error}",
            payload,
        )
    if integration.type == "HTTP_PROXY":
        return IntegrationResult(status, body, None, None, payload)
    return _finish(integration, status, body, variables, response_headers, payload)
