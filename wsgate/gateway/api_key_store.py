"""API keys that exist at runtime: keys created after the template was loaded (one per user).

API Gateway checks a presented key against the keys in the stage's usage plans *now*, not
against the keys the template declared. The local gateway loads the template's keys up front;
this store lets it also accept keys created since, by asking an ``apigateway`` endpoint (moto's
server in ``wsgate local``) which usage plans a key value belongs to. Plans are matched to the
template's plans by name, so the key gets the template's throttle and quota, counted per key.

Lookups are plain boto3 calls, made only for a key the gateway has not seen (then cached: a
found key for good, an unknown one for :data:`NEGATIVE_TTL_S`), so a ``$connect`` with a known
key never waits on them. Enabled only when :data:`shared.names.ENV_GATEWAY_API_KEYS_ENDPOINT`
names an endpoint.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from shared.names import ENV_GATEWAY_API_KEYS_ENDPOINT
from wsgate.gateway.template_loader import UsagePlan

NEGATIVE_TTL_S = 2.0
"""How long "no such key" is believed: a key issued a moment later is found soon after."""
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class ApiKeyStore:
    """Which usage plans (by name) a key value belongs to, as the control plane says."""

    def __init__(
        self,
        client: Any,
        *,
        negative_ttl_s: float = NEGATIVE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._found: dict[str, frozenset[str]] = {}
        self._missing: dict[str, float] = {}
        self._lock = threading.Lock()
        self.lookups = 0
        """Control-plane lookups made (observable, so tests can bound them)."""

    @classmethod
    def for_endpoint(cls, endpoint: str, region: str) -> ApiKeyStore:
        client = boto3.client(
            "apigateway", endpoint_url=endpoint, region_name=region, **LOCAL_CREDENTIALS
        )
        return cls(client)

    def plan_names(self, key_value: str) -> frozenset[str]:
        """Names of the usage plans an enabled key with this value is in (empty if none)."""
        with self._lock:
            if key_value in self._found:
                return self._found[key_value]
            checked = self._missing.get(key_value)
            if checked is not None and self._clock() - checked < self._negative_ttl_s:
                return frozenset()
            names = self._look_up(key_value)
            if names:
                self._found[key_value] = names
                self._missing.pop(key_value, None)
            else:
                self._missing[key_value] = self._clock()
            return names

    def _look_up(self, key_value: str) -> frozenset[str]:
        self.lookups += 1
        key_id = None
        for page in self._client.get_paginator("get_api_keys").paginate(includeValues=True):
            for key in page.get("items", []):
                if key.get("value") == key_value and key.get("enabled", False):
                    key_id = key["id"]
        if key_id is None:
            return frozenset()
        plans = self._client.get_paginator("get_usage_plans").paginate(keyId=key_id)
        return frozenset(plan["name"] for page in plans for plan in page.get("items", []))


def from_environment(environ: Mapping[str, str] | None = None) -> ApiKeyStore | None:
    """The store named by the environment, or None (the gateway then knows template keys only)."""
    environ = os.environ if environ is None else environ
    endpoint = environ.get(ENV_GATEWAY_API_KEYS_ENDPOINT)
    if not endpoint:
        return None
    region = environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION") or "us-east-1"
    return ApiKeyStore.for_endpoint(endpoint, region)


def mirror_usage_plans(client: Any, plans: list[UsagePlan]) -> dict[str, str]:
    """Create the template's usage plans at ``client``'s endpoint (name, throttle, quota), so
    keys issued there can join them; plan name -> id. An existing plan of that name is reused."""
    existing = {
        plan["name"]: plan["id"]
        for page in client.get_paginator("get_usage_plans").paginate()
        for plan in page.get("items", [])
    }
    ids: dict[str, str] = {}
    for plan in plans:
        if plan.name in existing:
            ids[plan.name] = existing[plan.name]
            continue
        request: dict[str, Any] = {"name": plan.name}
        if plan.throttle is not None:
            request["throttle"] = {
                "burstLimit": plan.throttle.burst,
                "rateLimit": plan.throttle.rate,
            }
        if plan.quota_limit is not None:
            request["quota"] = {
                "limit": plan.quota_limit,
                "period": plan.quota_period or "MONTH",
                "offset": plan.quota_offset,
            }
        ids[plan.name] = client.create_usage_plan(**request)["id"]
    return ids
