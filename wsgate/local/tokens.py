"""Development tokens for the local stack, minted with the same code ``wsgate token`` uses.

Each user's token carries that user's own API key (its ``apiKey`` claim, which the authorizer
returns as ``usageIdentifierKey``): the key is issued on the user's first token through the ops
Lambda's key code, against moto's ``apigateway``, so a usage plan's quota limits one user, not
everyone. Without an issuer the shared development key is used, as in the tutorial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice_app.chalicelib.api_keys import issue_key
from chalice_app.chalicelib.tokens import mint_token
from shared.names import StackNames
from wsgate.gateway.api_key_store import mirror_usage_plans
from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
from wsgate.gateway.template_loader import load_api

KeyIssuer = Callable[[str], str]
"""user id -> the value of that user's API key."""


def per_user_keys(apigateway: Any, usage_plan_id: str, names: StackNames) -> KeyIssuer:
    """Issue (or find) each user's key in the usage plan, as the ops Lambda does in AWS."""

    def issue(user: str) -> str:
        return issue_key(apigateway, usage_plan_id, names.user_api_key_name(user), user).value

    return issue


@dataclass(frozen=True)
class TokenMinter:
    """Tokens carrying the user's API key, so browsers (key from the authorizer) work."""

    secret: str
    api_key: str
    """The shared development key: used when no ``issue_key`` is given."""
    ttl_s: int
    issue_key: KeyIssuer | None = None

    def key_for(self, user: str) -> str:
        return self.issue_key(user) if self.issue_key is not None else self.api_key

    def mint(self, user: str) -> str:
        return mint_token(self.secret, user, ttl_s=self.ttl_s, api_key=self.key_for(user))


def local_user_keys(
    template: Path, parameters: Mapping[str, str], stack_name: str, apigateway: Any
) -> tuple[KeyIssuer, str]:
    """Mirror the template's usage plan into moto and issue users' keys into it.

    Returns the issuer and the plan's id (for the ``usage-plan-id`` SSM parameter the ops
    Lambda reads). The plan keeps the template's name, which is how the local gateway matches
    a runtime key to the template's throttle and quota.
    """
    api = load_api(
        template, parameters=parameters, pseudo={**PSEUDO_PARAMETERS, "AWS::StackName": stack_name}
    )
    if not api.usage_plans:
        raise ValueError(f"{template} declares no usage plan for the API: no per-user keys")
    plan = api.usage_plans[0]
    plan_id = mirror_usage_plans(apigateway, [plan])[plan.name]
    return per_user_keys(apigateway, plan_id, StackNames(stack_name, api.stage.name)), plan_id
