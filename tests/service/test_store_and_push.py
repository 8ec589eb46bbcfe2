"""The shared connection store and push client against real endpoints."""

from __future__ import annotations

import time

import pytest

from shared.connection_store import ConnectionStore, UnknownConnectionError
from shared.connections_api import ConnectionsApi
from shared.names import execute_api_endpoint
from tests.support.connections_endpoint import ConnectionsEndpoint
from tests.support.moto import REGION


async def test_room_members_follows_every_page(dynamodb_endpoint: str, table_name: str) -> None:
    async with ConnectionStore(table_name, region=REGION, endpoint_url=dynamodb_endpoint) as store:
        ids = [f"m{i:03d}=" for i in range(25)]
        for cid in ids:
            await store.put_connection(cid, user_id=cid, connected_at=1_700_000_000_000)
            await store.join_room(cid, "big")
        await store.put_connection("other=", user_id="x", connected_at=1_700_000_000_000)
        await store.join_room("other=", "small")
        # Pages of 10 force three requests: all 25 must come back, and only them.
        assert sorted(await store.room_members("big", page_size=10)) == ids
        assert await store.room_members("small") == ["other="]


async def test_join_unknown_raises_and_stale_ids_are_found(
    dynamodb_endpoint: str, table_name: str
) -> None:
    async with ConnectionStore(table_name, region=REGION, endpoint_url=dynamodb_endpoint) as store:
        with pytest.raises(UnknownConnectionError, match="ghost="):
            await store.join_room("ghost=", "r")
        await store.put_connection("old=", user_id="u", connected_at=1_000_000_000_000)
        await store.put_connection("new=", user_id="u", connected_at=int(time.time() * 1000))
        assert await store.stale_connection_ids() == ["old="]
        assert sorted(await store.all_connection_ids()) == ["new=", "old="]
        await store.ping()


def test_execute_api_endpoint_ignores_custom_domains() -> None:
    assert (
        execute_api_endpoint("abc123", "eu-west-1", "prod")
        == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    )


async def test_fan_out_to_1000_reports_delivered_and_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = ConnectionsEndpoint(delay_s=0.002)
    url = await endpoint.start()
    ids = [f"c{i:04d}=" for i in range(1000)]
    endpoint.open_ids.update(ids[:990])
    gone: list[str] = []

    async def on_gone(connection_id: str) -> None:
        gone.append(connection_id)

    try:
        for concurrency in (64, 1):
            async with ConnectionsApi(url, region=REGION, concurrency=concurrency) as api:
                started = time.perf_counter()
                result = await api.fan_out(ids, b'{"type":"message"}', on_gone=on_gone)
                elapsed = time.perf_counter() - started
            print(f"fan-out 1000 @ concurrency {concurrency}: {elapsed * 1000:.0f} ms")
            assert result.delivered == 990
            assert sorted(result.gone) == ids[990:]
            assert result.failed == []
        assert len(gone) == 20
        assert all(len(endpoint.received[cid]) == 2 for cid in ids[:990])
        async with ConnectionsApi(url, region=REGION) as api:
            assert await api.get(ids[0]) is not None
            assert await api.delete(ids[0]) is True
            assert await api.delete(ids[0]) is False
            assert await api.post(ids[0], b"x") is False
    finally:
        await endpoint.stop()


async def test_throttled_and_failed_pushes_are_retried_with_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The signed fast path hands anything but 2xx/410 to botocore's standard retry mode."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = ConnectionsEndpoint()
    url = await endpoint.start()
    endpoint.open_ids.update({"a="})
    endpoint.fail_first = {"a=": [429, 500], "b=": [500]}  # b= is gone once it answers
    try:
        async with ConnectionsApi(url, region=REGION) as api:
            result = await api.fan_out(["a=", "b="], b"hello")
        assert (result.delivered, result.gone, result.failed) == (1, ["b="], [])
        assert endpoint.received["a="] == [b"hello"]
        assert endpoint.attempts["a="] == 3  # fast path 429, botocore 500, botocore 200
        assert endpoint.attempts["b="] == 2  # fast path 500, then botocore: 410
    finally:
        await endpoint.stop()


async def test_fan_out_overlaps_slow_pushes(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 members behind a 20 ms ``@connections`` round trip: one by one that is 4 s at the
    very least; bounded concurrency (the service's default) must finish far below it. The
    bound (1.5 s) leaves room for a loaded 2-core machine; concurrency 1 cannot meet it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = ConnectionsEndpoint(delay_s=0.020)
    url = await endpoint.start()
    ids = [f"slow{i:03d}=" for i in range(200)]
    endpoint.open_ids.update(ids)
    try:
        async with ConnectionsApi(url, region=REGION) as api:
            await api.fan_out(ids[:5], b"warm-up")  # credentials and first connections
            started = time.perf_counter()
            result = await api.fan_out(ids, b'{"type":"message"}')
            elapsed = time.perf_counter() - started
        assert result.delivered == 200
        assert elapsed < 1.5, f"200 pushes at 20 ms took {elapsed:.2f}s: not overlapped"
    finally:
        await endpoint.stop()
