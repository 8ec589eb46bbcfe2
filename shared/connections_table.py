"""The DynamoDB connections table, declared once for infra, the service, tests and `wsgate local`.

``connectionId`` is the partition key, as in the tutorial. Room membership is a global secondary
index on ``room`` (projecting the user id, so a fan-out needs no second read), and ``expiresAt``
(epoch seconds) is the TTL attribute: a record whose ``$disconnect`` never arrived (API Gateway
delivers it best-effort) still disappears after the two-hour maximum connection duration.
"""

from __future__ import annotations

from typing import Any

from shared.names import ROOM_INDEX, StackNames

DEFAULT_TABLE_NAME = StackNames().table
PARTITION_KEY = "connectionId"
ROOM_ATTRIBUTE = "room"
USER_ATTRIBUTE = "userId"
TTL_ATTRIBUTE = "expiresAt"
MAX_CONNECTION_SECONDS = 2 * 60 * 60
"""API Gateway closes every WebSocket connection after two hours."""

ROOM_INDEX_PROJECTED = (USER_ATTRIBUTE,)


def key_schema() -> list[dict[str, str]]:
    """The table's primary key."""
    return [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]


def attribute_definitions() -> list[dict[str, str]]:
    """Attributes used by the table key and its index (DynamoDB wants only those declared)."""
    return [
        {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": ROOM_ATTRIBUTE, "AttributeType": "S"},
    ]


def room_index() -> dict[str, Any]:
    """The room GSI: members of a room by ``room``, with the key and user id projected."""
    return {
        "IndexName": ROOM_INDEX,
        "KeySchema": [
            {"AttributeName": ROOM_ATTRIBUTE, "KeyType": "HASH"},
            {"AttributeName": PARTITION_KEY, "KeyType": "RANGE"},
        ],
        "Projection": {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": list(ROOM_INDEX_PROJECTED),
        },
    }


def create_table_request(table_name: str = DEFAULT_TABLE_NAME) -> dict[str, Any]:
    """Keyword arguments for boto3's ``create_table``, matching what infra declares."""
    return {
        "TableName": table_name,
        "KeySchema": key_schema(),
        "AttributeDefinitions": attribute_definitions(),
        "GlobalSecondaryIndexes": [room_index()],
        "BillingMode": "PAY_PER_REQUEST",
    }


def time_to_live_request(table_name: str = DEFAULT_TABLE_NAME) -> dict[str, Any]:
    """Keyword arguments for boto3's ``update_time_to_live`` enabling TTL on ``expiresAt``."""
    return {
        "TableName": table_name,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    }
