"""The typed description of one WebSocket API, as the local gateway runs it.

``template_loader`` builds it from a CloudFormation template; the gateway's parts (routing,
throttling, usage plans, the execution log) read only these frozen records, never the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wsgate.gateway.lambda_runtime import FunctionSpec


@dataclass(frozen=True)
class IntegrationResponse:
    templates: dict[str, str]
    template_selection: str | None


@dataclass(frozen=True)
class Integration:
    logical_id: str
    type: str
    method: str
    uri: str | None
    """Rewritten to the local backend (scheme, host and port replaced; path kept)."""
    request_templates: dict[str, str]
    template_selection: str | None
    request_parameters: dict[str, str]
    timeout_s: float
    responses: dict[str, IntegrationResponse] = field(default_factory=dict)
    function: FunctionSpec | None = None
    """The Lambda function of an ``AWS_PROXY`` / ``AWS`` integration."""


@dataclass(frozen=True)
class Route:
    key: str
    integration: Integration | None
    authorizer: str | None
    api_key_required: bool
    model_selection: str | None
    request_models: dict[str, str]
    two_way: bool


@dataclass(frozen=True)
class Authorizer:
    logical_id: str
    identity_sources: list[str]
    function_arn: str


@dataclass(frozen=True)
class Throttle:
    burst: int
    rate: float


@dataclass(frozen=True)
class Stage:
    name: str
    variables: dict[str, str]
    default_throttle: Throttle | None
    route_throttles: dict[str, Throttle]
    logging_level: str
    access_log_format: str | None


QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")


@dataclass(frozen=True)
class UsagePlan:
    name: str
    throttle: Throttle | None
    quota_limit: int | None
    quota_period: str | None
    quota_offset: int
    key_values: frozenset[str]


@dataclass(frozen=True)
class WebSocketApiConfig:
    api_id: str
    name: str
    route_selection: str
    api_key_selection: str | None
    routes: dict[str, Route]
    models: dict[str, dict[str, Any]]
    authorizers: dict[str, Authorizer]
    stage: Stage
    usage_plans: list[UsagePlan]
    mapping_keys: list[str]
    api_keys: dict[str, str] = field(default_factory=dict)
    """Logical id -> value, for printing the development key."""
