"""Connection records in DynamoDB: who is connected, since when, and in which room.

One class with an async API (aiobotocore: the same botocore models and retry modes as boto3,
without blocking the event loop). The service and the ops Lambda both use it, so the table
layout lives in ``shared.connections_table`` and the access patterns live here, once. The
item calls of the message path go out on the signed fast path (``shared.dynamodb_fast``).
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import ClientError

from shared.aio_client import AioServiceClient
from shared.connections_table import (
    MAX_CONNECTION_SECONDS,
    PARTITION_KEY,
    ROOM_ATTRIBUTE,
    TTL_ATTRIBUTE,
    USER_ATTRIBUTE,
)
from shared.dynamodb_fast import FastDynamoDB
from shared.names import ROOM_INDEX

if TYPE_CHECKING:
    from botocore.config import _RetryDict

RETRIES: _RetryDict = {"mode": "standard", "max_attempts": 5}
"""botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx."""


class UnknownConnectionError(LookupError):
    """The connection has no record: it never connected, or it has already disconnected."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(
            f"connection {connection_id} is not connected (no record in the connections table)"
        )
        self.connection_id = connection_id


@dataclass(frozen=True)
class ConnectionRecord:
    """One item of the connections table."""

    connection_id: str
    user_id: str
    user_name: str
    room: str | None
    connected_at: int
    """Epoch milliseconds, as API Gateway's ``$context.connectedAt``."""
    expires_at: int
    """Epoch seconds: DynamoDB's TTL deletes the record after the connection's maximum life."""
    source_ip: str | None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ConnectionRecord:
        return cls(
            connection_id=item[PARTITION_KEY]["S"],
            user_id=item.get(USER_ATTRIBUTE, {}).get("S", ""),
            user_name=item.get("userName", {}).get("S", ""),
            room=item.get(ROOM_ATTRIBUTE, {}).get("S"),
            connected_at=int(item.get("connectedAt", {}).get("N", "0")),
            expires_at=int(item.get(TTL_ATTRIBUTE, {}).get("N", "0")),
            source_ip=item.get("sourceIp", {}).get("S"),
        )


class ConnectionStore(AioServiceClient):
    """Async access to the connections table; open it once and share it (``async with``)."""

    service = "dynamodb"

    def __init__(
        self,
        table_name: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        session: AioSession | None = None,
        max_pool_connections: int = 64,
    ) -> None:
        super().__init__(
            region=region,
            endpoint_url=endpoint_url,
            session=session,
            config=AioConfig(retries=RETRIES, max_pool_connections=max_pool_connections),
        )
        self.table_name = table_name
        self._fast: FastDynamoDB | None = None
        self._pool = max_pool_connections

    async def _opened(self, exit_stack: AsyncExitStack) -> None:
        self._fast = FastDynamoDB(self.client, self._region, self._session, self._pool)
        await self._fast.open()
        exit_stack.push_async_callback(self._fast.close)

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One DynamoDB call: the fast path, which answers exactly as the client would."""
        if self._fast is None:
            raise RuntimeError("ConnectionStore is not open: use it as 'async with'")
        return await self._fast.call(operation, params)

    async def put_connection(
        self,
        connection_id: str,
        *,
        user_id: str,
        user_name: str = "",
        connected_at: int,
        source_ip: str | None = None,
    ) -> ConnectionRecord:
        """Record a new connection, expiring two hours after it opened (API Gateway's limit)."""
        expires_at = connected_at // 1000 + MAX_CONNECTION_SECONDS
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": connection_id},
            USER_ATTRIBUTE: {"S": user_id},
            "userName": {"S": user_name},
            "connectedAt": {"N": str(connected_at)},
            TTL_ATTRIBUTE: {"N": str(expires_at)},
        }
        if source_ip:
            item["sourceIp"] = {"S": source_ip}
        await self._call("PutItem", TableName=self.table_name, Item=item)
        return ConnectionRecord.from_item(item)

    async def delete_connection(self, connection_id: str) -> None:
        """Forget a connection; deleting an unknown id is not an error (``$disconnect`` may
        arrive after a 410 cleanup already removed the record)."""
        await self._call(
            "DeleteItem", TableName=self.table_name, Key={PARTITION_KEY: {"S": connection_id}}
        )

    async def get_connection(self, connection_id: str) -> ConnectionRecord | None:
        response = await self._call(
            "GetItem",
            TableName=self.table_name,
            Key={PARTITION_KEY: {"S": connection_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return ConnectionRecord.from_item(item) if item else None

    async def join_room(self, connection_id: str, room: str) -> ConnectionRecord:
        """Move a connection into ``room``; conditional, so a join can never create a record."""
        try:
            response = await self._call(
                "UpdateItem",
                TableName=self.table_name,
                Key={PARTITION_KEY: {"S": connection_id}},
                UpdateExpression="SET #room = :room",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#room": ROOM_ATTRIBUTE, "#pk": PARTITION_KEY},
                ExpressionAttributeValues={":room": {"S": room}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise UnknownConnectionError(connection_id) from None
            raise
        return ConnectionRecord.from_item(response["Attributes"])

    async def room_members(self, room: str, *, page_size: int | None = None) -> list[str]:
        """Connection ids in ``room``, through the room index, following every page (as
        botocore's paginator does: ``LastEvaluatedKey`` becomes ``ExclusiveStartKey``)."""
        members: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": ROOM_INDEX,
            "KeyConditionExpression": "#room = :room",
            "ExpressionAttributeNames": {"#room": ROOM_ATTRIBUTE, "#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":room": {"S": room}},
            "ProjectionExpression": "#pk",
        }
        if page_size:
            request["Limit"] = page_size
        while True:
            page = await self._call("Query", **request)
            members.extend(item[PARTITION_KEY]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return members
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _scan_ids(self, **filters: Any) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {"TableName": self.table_name, **filters}
        async for page in self.client.get_paginator("scan").paginate(**request):
            ids.extend(item[PARTITION_KEY]["S"] for item in page.get("Items", []))
        return ids

    async def all_connection_ids(self) -> list[str]:
        """Every connection id (a scan: for broadcasts and pruning, not the message path)."""
        return await self._scan_ids(
            ProjectionExpression="#pk", ExpressionAttributeNames={"#pk": PARTITION_KEY}
        )

    async def stale_connection_ids(self, now_s: int | None = None) -> list[str]:
        """Records past their ``expiresAt`` that DynamoDB's TTL (up to days late) left behind."""
        now_s = int(time.time()) if now_s is None else now_s
        return await self._scan_ids(
            ProjectionExpression="#pk",
            FilterExpression="#ttl < :now",
            ExpressionAttributeNames={"#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":now": {"N": str(now_s)}},
        )

    async def ping(self) -> None:
        """Raise if the table cannot be reached (for ``/ready``)."""
        await self.client.describe_table(TableName=self.table_name)
