"""DynamoDB tables a template declares beside its functions, created in the local store.

A SAM or CloudFormation project's functions find their tables through ``Ref`` (usually in an
environment variable); locally ``Ref`` of a table is its ``TableName`` or, without one, the
resolver's physical id, and the table is created under that name in whatever DynamoDB the
environment points boto3 at (``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``: moto's
server under ``wsgate local``). Without such an endpoint nothing is created: the gateway never
creates tables in a real account.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
"""botocore's endpoint variables for DynamoDB, most specific first."""
CREATE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)


class TableCreationError(RuntimeError):
    """The local store refused a declared table; the message names it and why."""


def local_endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    return next((environ[name] for name in ENDPOINT_VARIABLES if environ.get(name)), None)


def create_request(kind: str, name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """``create_table`` arguments for a declared table (SAM's SimpleTable spelled out)."""
    if kind == "AWS::Serverless::SimpleTable":
        key = props.get("PrimaryKey", {"Name": "id", "Type": "String"})
        kinds = {"String": "S", "Number": "N", "Binary": "B"}
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": key["Name"], "AttributeType": kinds[key["Type"]]}
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
    request = {"TableName": name, **{k: props[k] for k in CREATE_KEYS if k in props}}
    if "ProvisionedThroughput" not in request:
        request["BillingMode"] = "PAY_PER_REQUEST"
    return request


def create_declared_tables(
    tables: Mapping[str, str],
    props: Callable[[str], dict[str, Any]],
    physical_id: Callable[[str], str],
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Create each declared table (logical id -> type) that does not exist yet; return names."""
    endpoint = local_endpoint(environ)
    if endpoint is None or not tables:
        return []
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=PSEUDO_PARAMETERS["AWS::Region"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    created = []
    for logical_id, kind in tables.items():
        name = physical_id(logical_id)
        try:
            client.create_table(**create_request(kind, name, props(logical_id)))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise TableCreationError(f"{logical_id} ({name}): {error}") from None
        except (BotoCoreError, KeyError, TypeError) as error:
            raise TableCreationError(f"{logical_id} ({name}): {error}") from None
        created.append(name)
    return created
