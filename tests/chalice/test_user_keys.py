"""One API key per user: a usage plan's quota then limits one user, not the whole service.

The keys are issued by the ops Lambda's key code against moto's ``apigateway`` (which serves
API keys and usage plans), and the local gateway accepts a key that exists at runtime in one of
the stage's plans, counted per key. With a quota of 3 (a template parameter), user A's fourth
``$connect`` is refused with 429 while user B still connects.

API Gateway applies a usage plan's throttle and quota per API key, and answers 429 Too Many
Requests when either is exceeded:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path

import jwt
import pytest
import websockets
from websockets.asyncio.client import connect

from chalice_app.chalicelib.api_keys import issue_key
from tests.local.conftest import start_local, stop_local
from tests.support.moto import client
from wsgate.gateway.api_key_store import ApiKeyStore, mirror_usage_plans
from wsgate.gateway.template_loader import Throttle, UsagePlan
from wsgate.gateway.throttling import KeyVerdict, UsagePlans

QUOTA = 3


def _plan(name: str) -> UsagePlan:
    return UsagePlan(
        name=name,
        throttle=Throttle(10, 5.0),
        quota_limit=QUOTA,
        quota_period="MONTH",
        quota_offset=0,
        key_values=frozenset(),
    )


def test_runtime_keys_get_the_plans_quota_each(aws_endpoint: str) -> None:
    apigateway = client("apigateway", aws_endpoint)
    plan = _plan(f"chat-{time.monotonic_ns()}")
    plan_id = mirror_usage_plans(apigateway, [plan])[plan.name]
    assert mirror_usage_plans(apigateway, [plan]) == {plan.name: plan_id}  # reused, not doubled
    mirrored = apigateway.get_usage_plan(usagePlanId=plan_id)
    assert mirrored["quota"]["limit"] == QUOTA and mirrored["throttle"]["burstLimit"] == 10
    now = [0.0]
    store = ApiKeyStore(apigateway, clock=lambda: now[0])
    plans = UsagePlans([plan], store=store)
    ann = issue_key(apigateway, plan_id, f"{plan.name}-ann").value
    bob = issue_key(apigateway, plan_id, f"{plan.name}-bob").value
    assert [plans.check(ann) for _ in range(QUOTA + 1)] == [KeyVerdict.OK] * QUOTA + [
        KeyVerdict.QUOTA
    ]
    assert plans.check(bob) == KeyVerdict.OK  # another user's key, another quota
    assert store.lookups == 2  # each key looked up once, then known
    outsider = apigateway.create_api_key(name=f"{plan.name}-outsider", enabled=True)["value"]
    assert plans.check(outsider) == KeyVerdict.FORBIDDEN  # exists, but in no plan of the stage
    assert plans.check("no-such-key-000000000000") == KeyVerdict.FORBIDDEN
    lookups = store.lookups
    assert plans.check("no-such-key-000000000000") == KeyVerdict.FORBIDDEN
    assert store.lookups == lookups  # a miss is remembered for a moment


def test_a_key_issued_after_a_miss_is_found_once_the_miss_expires(aws_endpoint: str) -> None:
    apigateway = client("apigateway", aws_endpoint)
    plan = _plan(f"chat-{time.monotonic_ns()}")
    plan_id = mirror_usage_plans(apigateway, [plan])[plan.name]
    now = [0.0]
    plans = UsagePlans([plan], store=ApiKeyStore(apigateway, clock=lambda: now[0]))
    value = "k" * 30 + str(time.monotonic_ns())
    assert plans.check(value) == KeyVerdict.FORBIDDEN
    key = apigateway.create_api_key(name=f"{plan.name}-late", value=value, enabled=True)
    apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
    assert plans.check(value) == KeyVerdict.FORBIDDEN  # the miss is still believed
    now[0] += 3
    assert plans.check(value) == KeyVerdict.OK


def test_without_a_store_only_template_keys_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSGATE_GATEWAY_API_KEYS_ENDPOINT", raising=False)
    plans = UsagePlans([_plan("p")])
    assert plans.check("k" * 30) == KeyVerdict.FORBIDDEN


async def _status(url: str, token: str) -> int:
    try:
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}):
            return 101
    except websockets.InvalidStatus as rejected:
        return rejected.response.status_code


def _console_token(console_url: str, user: str) -> str:
    with urllib.request.urlopen(f"{console_url}dev/token?user={user}", timeout=30) as answer:
        return str(json.loads(answer.read())["token"])


def _key_claim(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["apiKey"])


def test_one_user_exhausts_their_quota_and_another_still_connects(tmp_path: Path) -> None:
    stack = start_local(
        tmp_path, "--param", f"UsagePlanQuotaLimit={QUOTA}", "--seed-users", "ann,bob"
    )
    try:
        url = stack.facts["websocketUrl"]
        ann, bob = stack.token("ann"), stack.token("bob")
        assert _key_claim(ann) != _key_claim(bob) != stack.facts["apiKey"]
        again = _console_token(stack.facts["consoleUrl"], "ann")  # a second login
        assert _key_claim(again) == _key_claim(ann)  # same user, same key

        async def scenario() -> tuple[list[int], int]:
            ann_statuses = [await _status(url, ann) for _ in range(QUOTA + 1)]
            return ann_statuses, await _status(url, bob)

        ann_statuses, bob_status = asyncio.run(scenario())
        assert ann_statuses == [101] * QUOTA + [429]
        assert bob_status == 101
    finally:
        stop_local(stack)
