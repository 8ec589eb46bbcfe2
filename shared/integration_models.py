"""The JSON body API Gateway's request template sends to the service, one model per route kind.

Each field declares where the gateway takes its value from (``$context.connectionId``,
``${stageVariables.region}``, ``$input.json('$')``, ...) with a :class:`Source` annotation.
``shared.request_templates`` builds the route's VTL request template from those annotations, so
the template and the model that parses its output cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.client_messages import ClientMessage

Encoding = Literal["string", "verbatim", "number", "json"]


@dataclass(frozen=True)
class Source:
    """Where the request template reads a field from, and how it is written into the JSON body.

    ``string`` values are escaped for JSON (they may come from a client or a token);
    ``verbatim`` values are quoted without escaping, for ids and names API Gateway generates
    itself or that CloudFormation restricts to URL-safe characters (stage variables), which
    saves the escaping call on the hot path; ``number`` values are written bare (epoch
    milliseconds the gateway generates); ``json`` values are already JSON text
    (``$input.json('$')`` of a body the route's model validated).
    """

    expression: str
    encoding: Encoding = "string"


def context(name: str) -> Source:
    """A ``$context`` value API Gateway generates itself (ids, stage, route key): quoted as is."""
    return Source(f"$context.{name}", "verbatim")


def untrusted_context(name: str) -> Source:
    """A ``$context`` value a client or a token controls (user agent, authorizer): escaped."""
    return Source(f"$context.{name}", "string")


def stage_variable(name: str) -> Source:
    """A stage variable (``${stageVariables.x}`` as the tutorial writes it): URL-safe by rule."""
    return Source(f"${{stageVariables.{name}}}", "verbatim")


class IntegrationRequest(BaseModel):
    """Fields every integration request carries, whatever the route.

    ``apiId``, ``region`` and ``stage`` are what the service needs to build the ``@connections``
    endpoint itself (it must not trust ``domainName``, which is the custom domain when one is
    mapped); ``tableName`` lets one service fleet serve several stages.
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    connectionId: Annotated[str, context("connectionId")]
    requestId: Annotated[str, context("requestId")]
    routeKey: Annotated[str, context("routeKey")]
    eventType: Annotated[str, context("eventType")]
    apiId: Annotated[str, context("apiId")]
    stage: Annotated[str, context("stage")]
    domainName: Annotated[str, context("domainName")]
    requestTimeEpoch: Annotated[int, Source("$context.requestTimeEpoch", "number")]
    region: Annotated[str, stage_variable("region")]
    tableName: Annotated[str, stage_variable("tableName")]
    userId: Annotated[str, untrusted_context("authorizer.principalId")]
    """The authorizer's principal: who this connection is. Empty when no authorizer ran."""


class ConnectRequest(IntegrationRequest):
    """``$connect``: who connected, from where, and when."""

    userName: Annotated[str, untrusted_context("authorizer.name")]
    sourceIp: Annotated[str, context("identity.sourceIp")]
    userAgent: Annotated[str, untrusted_context("identity.userAgent")]
    connectedAt: Annotated[int, Source("$context.connectedAt", "number")]


class DisconnectRequest(IntegrationRequest):
    """``$disconnect``: the connection is already gone; only its id matters."""


class DefaultRequest(IntegrationRequest):
    """``$default``: the raw frame, which may not even be JSON, passed as an escaped string."""

    body: Annotated[str, Source("$input.body")]


ClientMessageT = TypeVar("ClientMessageT", bound=ClientMessage)


class MessageRequest(IntegrationRequest, Generic[ClientMessageT]):
    """A custom route: the client's payload, already validated by the gateway against its model.

    The service validates ``payload`` again with the same model, so a request that reaches it
    some other way (a misconfigured template, a test, a port scan) is held to the same rules.
    """

    payload: Annotated[ClientMessageT, Source("$input.json('$')", "json")]


def field_sources(model: type[BaseModel]) -> dict[str, Source]:
    """Map each field of an integration model to its :class:`Source`, in declaration order."""
    sources: dict[str, Source] = {}
    for name, info in model.model_fields.items():
        found = [m for m in info.metadata if isinstance(m, Source)]
        if not found:
            raise TypeError(
                f"{model.__name__}.{name} has no Source annotation: every integration-request "
                "field must say where API Gateway takes its value from"
            )
        sources[name] = found[0]
    return sources


def example_values() -> dict[str, Any]:
    """Plausible values for the common fields, for docs and tests of the service."""
    return {
        "connectionId": "L0SM9cOFvHcCIhw=",
        "requestId": "L0SM9FBqvHcFhQw=",
        "routeKey": "$default",
        "eventType": "MESSAGE",
        "apiId": "abcdef1234",
        "stage": "prod",
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "requestTimeEpoch": 1_700_000_000_000,
        "region": "us-east-1",
        "tableName": "wsgate-connections",
        "userId": "alice",
    }
