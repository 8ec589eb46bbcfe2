"""API keys in the stage's usage plan: one per user, so a quota limits a user, not everyone.

A usage plan's throttle and quota apply per API key. With one shared key, connection 501 of a
500-a-month quota locks every user out; with a key per user, only the user who used up their
quota gets 429. Keys are found by their exact name before one is created, so issuing is
idempotent: every login of a user returns that user's one key.

Plain boto3 (``apigateway`` is the v1 control plane that owns keys and usage plans, also for
v2 WebSocket APIs); the caller passes the client, so the local stack and tests point it at
moto's server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class IssuedKey:
    id: str
    name: str
    value: str
    created: bool
    """False when the key already existed (an earlier login of the same user)."""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "value": self.value, "created": self.created}


def find_key(apigateway: Any, name: str) -> dict[str, Any] | None:
    """The key named exactly ``name`` (``nameQuery`` is a prefix match), with its value."""
    paginator = apigateway.get_paginator("get_api_keys")
    for page in paginator.paginate(nameQuery=name, includeValues=True):
        for key in page.get("items", []):
            if key.get("name") == name:
                return dict(key)
    return None


def _ensure_in_plan(apigateway: Any, usage_plan_id: str, key_id: str) -> None:
    try:
        apigateway.get_usage_plan_key(usagePlanId=usage_plan_id, keyId=key_id)
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
    apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=key_id, keyType="API_KEY")


def issue_key(
    apigateway: Any, usage_plan_id: str, name: str, customer_id: str | None = None
) -> IssuedKey:
    """The key named ``name`` in the usage plan, created (and added to the plan) if missing.

    Two first logins of the same user racing each other can both create a key; the next
    :func:`find_key` then returns one of them, and the other is unused (API Gateway has no
    conditional create to prevent it).
    """
    existing = find_key(apigateway, name)
    if existing is not None:
        _ensure_in_plan(apigateway, usage_plan_id, str(existing["id"]))
        return IssuedKey(str(existing["id"]), name, str(existing["value"]), created=False)
    request: dict[str, Any] = {"name": name, "enabled": True}
    if customer_id:
        request["customerId"] = customer_id
    key = apigateway.create_api_key(**request)
    _ensure_in_plan(apigateway, usage_plan_id, str(key["id"]))
    return IssuedKey(str(key["id"]), name, str(key["value"]), created=True)
