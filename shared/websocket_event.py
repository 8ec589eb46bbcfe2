"""API Gateway's WebSocket Lambda proxy event, typed, with the body parsed into a route's model.

A Lambda route's function is written against ``WebSocketEvent[ListRooms]`` (in the style of
AWS Lambda Powertools' typed event classes) instead of a raw dict, so the route table's client
model is the one declaration of the message on every path: the gateway validates it as a
draft-04 model, the function gets it parsed by pydantic. The field names follow AWS's event
(camelCase aliases); unknown fields are kept, because API Gateway adds fields over time.

Shapes: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
(the ``$context`` variables the ``requestContext`` carries) and the captured events in
aws-powertools/powertools-lambda-python ``tests/events/apiGatewayWebSocketApi*.json``.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

ModelT = TypeVar("ModelT", bound=BaseModel)

EventType = Literal["CONNECT", "MESSAGE", "DISCONNECT"]


class _AwsShape(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


class Identity(_AwsShape):
    source_ip: str = Field(alias="sourceIp")
    user_agent: str | None = Field(default=None, alias="userAgent")


class RequestContext(_AwsShape):
    """``requestContext``: the same values a request template reads as ``$context``."""

    route_key: str = Field(alias="routeKey")
    event_type: EventType = Field(alias="eventType")
    connection_id: str = Field(alias="connectionId")
    request_id: str = Field(alias="requestId")
    domain_name: str = Field(alias="domainName")
    stage: str
    api_id: str = Field(alias="apiId")
    connected_at: int = Field(alias="connectedAt")
    request_time_epoch: int = Field(alias="requestTimeEpoch")
    identity: Identity
    message_id: str | None = Field(default=None, alias="messageId")
    """Set on MESSAGE events only."""
    authorizer: dict[str, Any] | None = None
    """``principalId`` and the authorizer's context values (stringified), when there is one."""
    disconnect_status_code: int | None = Field(default=None, alias="disconnectStatusCode")
    disconnect_reason: str | None = Field(default=None, alias="disconnectReason")

    @property
    def callback_url(self) -> str:
        """The ``@connections`` endpoint of the API this event came through."""
        return f"https://{self.domain_name}/{self.stage}"


class WebSocketEvent(_AwsShape, Generic[ModelT]):
    """A MESSAGE event whose ``body`` is parsed into the route's client model."""

    request_context: RequestContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    """Declared before ``body``: the body's decoding reads it."""
    body: ModelT

    @field_validator("body", mode="before")
    @classmethod
    def _decode(cls, value: Any, info: Any) -> Any:
        """The body arrives as the frame's text (base64 for binary frames): parse it as JSON."""
        if not isinstance(value, (str, bytes)):
            return value
        raw = value
        if (info.data or {}).get("is_base64_encoded"):
            raw = base64.b64decode(raw)
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ValueError(f"body is not JSON: {error}") from None

    @property
    def connection_id(self) -> str:
        return self.request_context.connection_id

    @property
    def route_key(self) -> str:
        return self.request_context.route_key


def proxy_response(status: int, body: str | None = None) -> dict[str, Any]:
    """What a proxy function returns: ``body`` is sent to the caller on a two-way route."""
    response: dict[str, Any] = {"statusCode": status}
    if body is not None:
        response["body"] = body
    return response
