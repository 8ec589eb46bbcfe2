"""Only API Gateway may call the service: forged requests from inside the VPC get 403.

The header comes from the integration's request parameters (``stageVariables.*`` is a valid
source on every WebSocket route:
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html),
and the stage variable from a Secrets Manager dynamic reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import boto3
import pytest

from ec2_service.caller_auth import CallerSecret, SecretUnavailableError, static_secret
from shared import names
from tests.service.conftest import SECRET, Service, running, settings_for
from tests.support.moto import CREDENTIALS, REGION

FORGED = "forged-value-that-is-not-the-secret"


def _table(service: Service, endpoint: str) -> Any:
    return boto3.resource(
        "dynamodb", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS
    ).Table(service.table_name)


def _snapshot(service: Service, endpoint: str) -> list[dict[str, Any]]:
    items = _table(service, endpoint).scan()["Items"]
    return sorted(items, key=lambda item: str(item["connectionId"]))


Attack = Callable[[Service, str | None], Awaitable[int]]


async def _move_victim(service: Service, secret: str | None) -> int:
    body = service.body(
        "victim=", userId="alice", payload={"action": "joinroom", "roomname": "trap"}
    )
    return (await service.call("POST", "/joinroom", body, secret=secret))[0]


async def _post_as_victim(service: Service, secret: str | None) -> int:
    body = service.body(
        "victim=", userId="alice", payload={"action": "sendmessage", "message": "send me money"}
    )
    return (await service.call("POST", "/sendmessage", body, secret=secret))[0]


async def _phantom_record(service: Service, secret: str | None) -> int:
    body = service.body(
        "phantom=",
        routeKey="$connect",
        eventType="CONNECT",
        userId="admin",
        userName="Admin",
        sourceIp="10.0.0.9",
        userAgent="curl",
        connectedAt=1_700_000_000_000,
    )
    return (await service.call("POST", "/connect", body, secret=secret))[0]


async def _delete_victim(service: Service, secret: str | None) -> int:
    body = service.body("victim=", routeKey="$disconnect", eventType="DISCONNECT")
    return (await service.call("DELETE", "/disconnect", body, secret=secret))[0]


ATTACKS: dict[str, Attack] = {
    "move the victim to another room": _move_victim,
    "post as the victim": _post_as_victim,
    "create a phantom record": _phantom_record,
    "delete the victim's record": _delete_victim,
}


async def _victim_and_friend(service: Service) -> None:
    await service.connect("victim=", "alice")
    await service.connect("friend=", "bob")
    assert (await service.join("victim=", "alice", "devs"))[0] == 200
    assert (await service.join("friend=", "bob", "devs"))[0] == 200


@pytest.mark.parametrize("secret", [None, FORGED, ""], ids=["missing", "wrong", "empty"])
async def test_forged_requests_are_403_and_change_nothing(
    service: Service, dynamodb_endpoint: str, secret: str | None
) -> None:
    await _victim_and_friend(service)
    before = _snapshot(service, dynamodb_endpoint)
    frames = {k: list(v) for k, v in service.endpoint.received.items()}
    for name, attack in ATTACKS.items():
        assert await attack(service, secret) == 403, name
    assert _snapshot(service, dynamodb_endpoint) == before
    assert {k: list(v) for k, v in service.endpoint.received.items()} == frames


async def test_the_same_requests_with_the_secret_work(
    service: Service, dynamodb_endpoint: str
) -> None:
    """The control: what the 403s refused is exactly what API Gateway's requests may do."""
    await _victim_and_friend(service)
    await service.connect("watcher=", "wendy")
    await service.join("watcher=", "wendy", "trap")
    for name, attack in ATTACKS.items():
        assert await attack(service, SECRET) == 200, name
    table = _table(service, dynamodb_endpoint)
    assert "Item" not in table.get_item(Key={"connectionId": "victim="})
    assert table.get_item(Key={"connectionId": "phantom="})["Item"]["userId"] == "admin"
    watcher_frames = b"".join(service.endpoint.received["watcher="])
    assert b"send me money" in watcher_frames  # moved, then its message went to the new room


async def test_health_and_ready_stay_open(service: Service) -> None:
    """The NLB's health check carries no secret."""
    assert (await service.call("GET", "/health", None, secret=None))[0] == 200
    assert (await service.call("GET", "/ready", None, secret=None))[0] == 200


async def test_current_and_previous_values_are_accepted() -> None:
    async def fetch() -> tuple[str, ...]:
        return ("new-secret", "old-secret")

    secret = CallerSecret(fetch, refresh_s=60)
    assert not secret.accepts("new-secret")  # nothing is accepted before the first load
    await secret.load()
    assert secret.accepts("new-secret") and secret.accepts("old-secret")
    for presented in (None, "", "new-secre", "new-secret ", "older-secret", "\udcff"):
        assert not secret.accepts(presented), presented


async def test_an_empty_secret_is_refused_at_load() -> None:
    with pytest.raises(SecretUnavailableError):
        await CallerSecret(static_secret(""), refresh_s=60).load()


async def _eventually(check: Callable[[], Awaitable[bool]], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_rotation_through_secrets_manager_has_no_gap(
    dynamodb_endpoint: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service reads AWSCURRENT and AWSPREVIOUS from Secrets Manager (moto's server) and
    re-reads them: after a rotation both the new and the old value work, and after a second
    rotation the oldest one stops working."""
    monkeypatch.setenv(names.ENV_SECRETS_MANAGER_ENDPOINT, dynamodb_endpoint)
    client = boto3.client(
        "secretsmanager", region_name=REGION, endpoint_url=dynamodb_endpoint, **CREDENTIALS
    )
    secret_name = f"{table_name}/integration-secret"
    client.create_secret(Name=secret_name, SecretString="first0secret")
    settings = settings_for(
        table_name,
        dynamodb_endpoint,
        integration_secret=None,
        integration_secret_id=secret_name,
        integration_secret_refresh_s=0.2,
    )
    async with running(settings) as (url, _app), aiohttp.ClientSession() as http:

        async def status(value: str) -> int:
            async with http.post(
                url + "/default",
                data=b"{}",
                headers={names.INTEGRATION_SECRET_HEADER: value},
            ) as response:
                return response.status

        assert await status("first0secret") == 400  # authenticated: the body is what is wrong
        assert await status("second0secret") == 403
        client.put_secret_value(SecretId=secret_name, SecretString="second0secret")

        async def second_accepted() -> bool:
            return await status("second0secret") == 400

        assert await _eventually(second_accepted)
        assert await status("first0secret") == 400  # AWSPREVIOUS: no gap while stages catch up
        client.put_secret_value(SecretId=secret_name, SecretString="third0secret")

        async def first_refused() -> bool:
            return await status("first0secret") == 403

        assert await _eventually(first_refused)
        assert await status("second0secret") == 400
        assert await status("third0secret") == 400
