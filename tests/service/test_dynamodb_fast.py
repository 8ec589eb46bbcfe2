"""The store's signed fast path answers exactly as the aiobotocore client does, against moto's
server: the same items, the same modeled errors, and throttling still retried by botocore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from shared.connection_store import ConnectionStore, UnknownConnectionError
from shared.connections_table import ROOM_INDEX
from tests.support.moto import REGION

ITEMS = [
    ("fast-a=", "alice", "devs"),
    ("fast-b=", "bob", "devs"),
    ("fast-c=", "carol", None),
]


def _without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


@pytest.fixture
async def store(dynamodb_endpoint: str, table_name: str) -> AsyncIterator[ConnectionStore]:
    async with ConnectionStore(table_name, region=REGION, endpoint_url=dynamodb_endpoint) as opened:
        for cid, user, room in ITEMS:
            await opened.put_connection(
                cid, user_id=user, user_name=user.title(), connected_at=1_700_000_000_000
            )
            if room:
                await opened.join_room(cid, room)
        yield opened


async def test_reads_return_what_the_client_returns(store: ConnectionStore) -> None:
    fast = store._fast
    assert fast is not None
    for cid, *_ in [*ITEMS, ("missing=", "", None)]:
        request = {"TableName": store.table_name, "Key": {"connectionId": {"S": cid}}}
        by_client = await store.client.get_item(**request, ConsistentRead=True)
        by_fast = await fast.call("GetItem", {**request, "ConsistentRead": True})
        assert by_fast == _without_metadata(by_client), cid
    query = {
        "TableName": store.table_name,
        "IndexName": ROOM_INDEX,
        "KeyConditionExpression": "#r = :r",
        "ExpressionAttributeNames": {"#r": "room"},
        "ExpressionAttributeValues": {":r": {"S": "devs"}},
    }
    assert await fast.call("Query", query) == _without_metadata(await store.client.query(**query))
    assert sorted(await store.room_members("devs")) == ["fast-a=", "fast-b="]
    record = await store.get_connection("fast-a=")
    assert record is not None and (record.user_name, record.room) == ("Alice", "devs")


async def test_errors_are_the_clients_own_exceptions(store: ConnectionStore) -> None:
    fast = store._fast
    assert fast is not None
    update = {
        "TableName": store.table_name,
        "Key": {"connectionId": {"S": "ghost="}},
        "UpdateExpression": "SET room = :r",
        "ConditionExpression": "attribute_exists(connectionId)",
        "ExpressionAttributeValues": {":r": {"S": "x"}},
    }
    missing_table = {"TableName": "no-such-table", "Key": {"connectionId": {"S": "a="}}}
    for operation, params in (("UpdateItem", update), ("GetItem", missing_table)):
        with pytest.raises(ClientError) as by_client:
            await getattr(store.client, "update_item" if operation == "UpdateItem" else "get_item")(
                **params
            )
        with pytest.raises(ClientError) as by_fast:
            await fast.call(operation, params)
        assert type(by_fast.value) is type(by_client.value)
        assert by_fast.value.response["Error"] == by_client.value.response["Error"]
        assert by_fast.value.operation_name == operation
    with pytest.raises(store.client.exceptions.ConditionalCheckFailedException):
        await fast.call("UpdateItem", update)
    with pytest.raises(UnknownConnectionError):
        await store.join_room("ghost=", "x")


async def _throttling_proxy(upstream: str, throttle_first: int) -> tuple[web.AppRunner, str, list]:
    """Forwards to moto, answering DynamoDB's throttling error to the first requests."""
    seen: list[int] = []

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(len(seen) + 1)
        if len(seen) <= throttle_first:
            return web.json_response(
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#"
                    "ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput was exceeded",
                },
                status=400,
                content_type="application/x-amz-json-1.0",
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(upstream, data=body, headers=headers) as answer,
        ):
            return web.Response(
                body=await answer.read(),
                status=answer.status,
                content_type="application/x-amz-json-1.0",
            )

    app = web.Application()
    app.router.add_post("/", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}", seen


async def test_throttling_is_retried_by_botocore(
    store: ConnectionStore, dynamodb_endpoint: str
) -> None:
    """The fast attempt is throttled, the client's first retry too, its second succeeds."""
    runner, url, seen = await _throttling_proxy(dynamodb_endpoint + "/", throttle_first=2)
    try:
        async with ConnectionStore(store.table_name, region=REGION, endpoint_url=url) as slow:
            record = await slow.get_connection("fast-b=")
        assert record is not None and record.room == "devs"
        assert len(seen) == 3
    finally:
        await runner.cleanup()
