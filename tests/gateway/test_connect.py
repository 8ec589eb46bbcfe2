"""``$connect``: identity sources, the authorizer, API keys and usage plans, the integration."""

from __future__ import annotations

import re

import pytest
import websockets
from websockets.asyncio.client import connect

from tests.gateway.conftest import Authorizers, Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from wsgate.gateway.ids import aws_id

KEYED = {"x-api-key": KEY}


async def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        async with connect(url, additional_headers=headers or {}):
            return 101
    except websockets.InvalidStatus as rejected:
        return rejected.response.status_code


AWS_ID = r"[A-Za-z0-9_-]{15}="
"""URL-safe base64, as real ids are: they go into ``@connections/{id}`` unescaped."""


def test_ids_never_need_escaping_in_a_path() -> None:
    assert all(re.fullmatch(AWS_ID, aws_id()) for _ in range(2000))


async def test_stage_and_mapping_key_paths_and_aws_like_ids(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api())
    for path in ("prod", "chat"):
        assert await _status(f"ws://127.0.0.1:{running.port}/{path}", KEYED) == 101
    assert await _status(f"ws://127.0.0.1:{running.port}/nope", KEYED) == 403
    call = await backend.wait_for("/connect")
    assert re.fullmatch(AWS_ID, call.body["connectionId"])
    assert call.body["routeKey"] == "$connect"
    assert call.body["region"] == "us-east-1"  # ${stageVariables.region} resolved
    assert call.body["user"] == "alice"


async def test_missing_identity_source_is_401_without_calling_the_authorizer(
    gateway: GatewayFactory, authorizers: Authorizers
) -> None:
    running = await gateway(http_api(identity_sources=["route.request.header.Auth"]))
    assert await _status(running.url, KEYED) == 401
    assert authorizers.events == []
    assert await _status(running.url, KEYED | {"auth": "token"}) == 101  # any header case


async def test_the_authorizer_event_is_the_documented_request_event(
    gateway: GatewayFactory, authorizers: Authorizers
) -> None:
    running = await gateway(http_api())
    assert await _status(running.url + "?token=abc", KEYED | {"X-Custom-Header": "v"}) == 101
    (event,) = authorizers.events
    assert event["type"] == "REQUEST"
    assert re.fullmatch(
        r"arn:aws:execute-api:us-east-1:123456789012:\w+/prod/\$connect", event["methodArn"]
    )
    assert event["headers"]["X-Custom-Header"] == "v"  # original case kept
    assert event["queryStringParameters"] == {"token": "abc"}
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"], context["stage"]) == (
        "$connect",
        "CONNECT",
        "prod",
    )
    assert context["connectionId"] and context["identity"]["sourceIp"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("mode", "status"), [("deny", 403), ("unauthorized", 401), ("crash", 500), ("malformed", 500)]
)
async def test_authorizer_outcomes(
    gateway: GatewayFactory, authorizers: Authorizers, backend: Backend, mode: str, status: int
) -> None:
    running = await gateway(http_api())
    authorizers.mode = mode
    assert await _status(running.url, KEYED) == status
    assert "/connect" not in backend.paths()


async def test_api_key_from_header(gateway: GatewayFactory) -> None:
    running = await gateway(http_api())
    assert await _status(running.url) == 403
    assert await _status(running.url, {"x-api-key": "wrong" * 5}) == 403
    assert await _status(running.url, KEYED) == 101


async def test_api_key_from_the_authorizer(
    gateway: GatewayFactory, authorizers: Authorizers
) -> None:
    running = await gateway(http_api(api_key_source="$context.authorizer.usageIdentifierKey"))
    assert await _status(running.url) == 101
    authorizers.usage_key = None
    assert await _status(running.url, KEYED) == 403  # the header does not count here


async def test_usage_plan_burst_and_quota_are_429(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(plan_throttle=(2, 0.001)))
    assert [await _status(running.url, KEYED) for _ in range(3)] == [101, 101, 429]
    quota = await gateway(http_api(quota=1))
    assert [await _status(quota.url, KEYED) for _ in range(2)] == [101, 429]


async def test_stage_throttle_refuses_connects(gateway: GatewayFactory) -> None:
    running = await gateway(http_api(stage_throttle=(1, 0.001)))
    assert [await _status(running.url, KEYED) for _ in range(2)] == [101, 429]


async def test_zero_throttle_settings_refuse_everything(gateway: GatewayFactory) -> None:
    """The trap the reference warns about: DefaultRouteSettings without throttle values."""
    template = http_api()
    settings = template["Resources"]["Stage"]["Properties"]["DefaultRouteSettings"]
    del settings["ThrottlingBurstLimit"], settings["ThrottlingRateLimit"]
    running = await gateway(template)
    assert await _status(running.url, KEYED) == 429


@pytest.mark.parametrize("status", [400, 401, 503])
async def test_connect_integration_status_rejects_the_handshake(
    gateway: GatewayFactory, backend: Backend, status: int
) -> None:
    backend.status["/connect"] = status
    running = await gateway(http_api())
    expected = 500 if status >= 500 else status
    assert await _status(running.url, KEYED) == expected
