"""What ``wsgate synth`` can vary; everything else is a CloudFormation parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.routes import ROUTES, Route

IntegrationMode = Literal["vpc-link", "http", "mock"]
ApiKeySource = Literal["header", "authorizer"]
IdentitySource = Literal["none", "header", "querystring"]

API_KEY_SELECTION = {
    "header": "$request.header.x-api-key",
    "authorizer": "$context.authorizer.usageIdentifierKey",
}
"""The only two values API Gateway accepts for a WebSocket API's key selection expression."""

IDENTITY_SOURCES: dict[str, list[str]] = {
    # API Gateway requires *every* listed source (else 401 without calling the Lambda), so
    # listing both the header and the query string would lock out wscat and browsers alike.
    # "none" lets the authorizer itself answer 401 for a missing token, from either place.
    "none": [],
    "header": ["route.request.header.Authorization"],
    "querystring": ["route.request.querystring.token"],
}

SERVICE_PORT = 8080


@dataclass(frozen=True)
class SynthOptions:
    """Structural choices (they change which resources exist, not just their values)."""

    integration: IntegrationMode = "vpc-link"
    backend_url: str | None = None
    """``--integration http``: the public base URL of the service (no trailing slash)."""
    api_key_source: ApiKeySource = "header"
    identity_source: IdentitySource = "none"
    connection_id_header: bool = False
    """Also pass the connection id as an ``connectionId`` header through request parameters
    (the tutorial's proxy variant), besides the body the template builds."""
    routes: tuple[Route, ...] = ROUTES
    stage_name: str = "prod"

    def __post_init__(self) -> None:
        if self.integration == "http" and not self.backend_url:
            raise ValueError("--integration http needs --backend-url (e.g. http://host:8080)")
        if self.backend_url and self.backend_url.endswith("/"):
            object.__setattr__(self, "backend_url", self.backend_url.rstrip("/"))

    @property
    def needs_fleet(self) -> bool:
        """Only the VPC-link mode deploys the VPC, NLB, Auto Scaling Group and VPC link."""
        return self.integration == "vpc-link"
