"""What ``wsgate synth`` can vary; everything else is a CloudFormation parameter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shared.names import API_KEY_FROM_AUTHORIZER, API_KEY_FROM_HEADER, DEFAULT_STAGE
from shared.routes import ROUTES, Route

IntegrationMode = Literal["vpc-link", "http", "mock"]
ApiKeySource = Literal["header", "authorizer"]
IdentitySource = Literal["none", "header", "querystring"]

API_KEY_SELECTION = {
    "header": API_KEY_FROM_HEADER,
    "authorizer": API_KEY_FROM_AUTHORIZER,
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


LAMBDA_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
)
"""A Lambda function ARN, optionally qualified by a version or alias."""
OPEN_CONNECT_FLAG = "--insecure-no-authorizer"
"""The ``wsgate synth`` flag that deploys ``$connect`` without an authorizer (tutorial only)."""


class MissingAuthorizerError(ValueError):
    """``$connect`` would be open to anyone, and nobody asked for that."""

    def __init__(self) -> None:
        super().__init__(
            "no authorizer for $connect: pass --from-chalice STAGE (after 'chalice deploy "
            "--stage STAGE') or --authorizer-arn ARN; only for the tutorial's first steps, "
            f"{OPEN_CONNECT_FLAG} deploys $connect open to anyone"
        )


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
    stage_name: str = DEFAULT_STAGE
    authorizer_arn: str | None = None
    """The ``$connect`` authorizer Lambda. Part of the template itself (not a parameter) so
    that changing it changes the Deployment's logical id and reaches the stage."""
    open_connect: bool = False
    """Deploy ``$connect`` with no authorizer: only when asked for by name (tutorial)."""
    lambda_arns: tuple[tuple[str, str], ...] = ()
    """Function name -> ARN for ``backend="lambda"`` routes (from Chalice's deployed record).
    Part of the template for the same reason as :attr:`authorizer_arn`; a route whose function
    is not listed gets the ARN Chalice's naming rule gives it (``infra.lambda_routes``)."""

    def __post_init__(self) -> None:
        if self.authorizer_arn is None and not self.open_connect:
            raise MissingAuthorizerError()
        if self.authorizer_arn is not None and self.open_connect:
            raise ValueError(f"{OPEN_CONNECT_FLAG} contradicts an authorizer ARN: choose one")
        if self.authorizer_arn is not None and not LAMBDA_ARN_PATTERN.match(self.authorizer_arn):
            raise ValueError(
                f"authorizer ARN {self.authorizer_arn!r} is not a Lambda function ARN "
                "(arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
            )
        for function, arn in self.lambda_arns:
            if not LAMBDA_ARN_PATTERN.match(arn):
                raise ValueError(
                    f"Lambda ARN {arn!r} for function {function!r} is not a Lambda function ARN "
                    "(arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
                )
        if self.integration == "http" and not self.backend_url:
            raise ValueError("--integration http needs --backend-url (e.g. http://host:8080)")
        if self.backend_url and self.backend_url.endswith("/"):
            object.__setattr__(self, "backend_url", self.backend_url.rstrip("/"))

    @property
    def needs_fleet(self) -> bool:
        """Only the VPC-link mode deploys the VPC, NLB, Auto Scaling Group and VPC link."""
        return self.integration == "vpc-link"
