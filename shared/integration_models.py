"""The JSON body API Gateway's request template sends to the service, one model per route kind.

Each field declares where the gateway takes its value from (``$context.connectionId``,
``${stageVariables.region}``, ``$input.json('$')``, ...) with a :class:`Source` annotation.
``shared.request_templates`` builds the route's VTL request template from those annotations, so
the template and the model that parses its output cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.client_messages import ClientMessage
from shared.names import (
    API_ID_PATTERN,
    CONNECTION_ID_PATTERN,
    REGION_PATTERN,
    STAGE_NAME_PATTERN,
    TABLE_NAME_PATTERN,
    StackNames,
    execute_api_host,
)

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


def _pattern(regex: Any) -> StringConstraints:
    return StringConstraints(pattern=regex.pattern)


Text = StringConstraints(max_length=1024)
"""Bound on free text that is stored (DynamoDB items are at most 400 KB)."""
Token = StringConstraints(max_length=256)
"""Bound on ids and names API Gateway generates, whatever a forged request says."""
EpochMs = Field(ge=0, le=2**53)
"""A timestamp DynamoDB can store (numbers have at most 38 digits)."""


class IntegrationRequest(BaseModel):
    """Fields every integration request carries, whatever the route.

    ``apiId``, ``stage``, ``region`` and ``tableName`` are informational: the service takes its
    ``@connections`` endpoint and its table from its own configuration and only checks that
    these agree with it (a mismatch is another stage or API pointed at the wrong fleet).
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    opaque_fields: ClassVar[frozenset[str]] = frozenset()
    """Top-level fields holding a client's text that the service never stores, logs or
    forwards (the raw ``$default`` frame): any character a client can send is allowed there,
    as API Gateway passes it on unchanged."""

    connectionId: Annotated[str, context("connectionId"), _pattern(CONNECTION_ID_PATTERN)]
    requestId: Annotated[str, context("requestId"), Token]
    routeKey: Annotated[str, context("routeKey"), Token]
    eventType: Annotated[str, context("eventType"), Token]
    apiId: Annotated[str, context("apiId"), _pattern(API_ID_PATTERN)]
    stage: Annotated[str, context("stage"), _pattern(STAGE_NAME_PATTERN)]
    domainName: Annotated[str, context("domainName"), Token]
    requestTimeEpoch: Annotated[int, Source("$context.requestTimeEpoch", "number"), EpochMs]
    region: Annotated[str, stage_variable("region"), _pattern(REGION_PATTERN)]
    tableName: Annotated[str, stage_variable("tableName"), _pattern(TABLE_NAME_PATTERN)]
    userId: Annotated[str, untrusted_context("authorizer.principalId"), Text]
    """The authorizer's principal: who this connection is. Empty when no authorizer ran."""


class ConnectRequest(IntegrationRequest):
    """``$connect``: who connected, from where, and when."""

    userName: Annotated[str, untrusted_context("authorizer.name"), Text]
    sourceIp: Annotated[str, context("identity.sourceIp"), StringConstraints(max_length=64)]
    userAgent: Annotated[str, untrusted_context("identity.userAgent"), Text]
    connectedAt: Annotated[int, Source("$context.connectedAt", "number"), EpochMs]


class DisconnectRequest(IntegrationRequest):
    """``$disconnect``: the connection is already gone; only its id matters."""


class DefaultRequest(IntegrationRequest):
    """``$default``: the raw frame, which may not even be JSON, passed as an escaped string."""

    opaque_fields: ClassVar[frozenset[str]] = frozenset({"body"})

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
    api_id, region, names = "abcdef1234", "us-east-1", StackNames()
    return {
        "connectionId": "L0SM9cOFvHcCIhw=",
        "requestId": "L0SM9FBqvHcFhQw=",
        "routeKey": "$default",
        "eventType": "MESSAGE",
        "apiId": api_id,
        "stage": names.stage,
        "domainName": execute_api_host(api_id, region),
        "requestTimeEpoch": 1_700_000_000_000,
        "region": region,
        "tableName": names.table,
        "userId": "alice",
    }
