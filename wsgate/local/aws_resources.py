"""The AWS pieces of the local stack: the connections table and SSM parameters.

moto's server is a real DynamoDB/SSM-compatible HTTP endpoint, so the service, the authorizer and
the ops code reach it through boto3/aiobotocore exactly as they reach AWS: only the endpoint URL
differs. The table comes from ``shared.connections_table``, the same definition infra declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from shared.connections_table import create_table_request, time_to_live_request

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""moto accepts any credentials; these keep boto3 from looking for real ones."""


@dataclass(frozen=True)
class AwsTarget:
    """Where DynamoDB and SSM are reached: moto locally, or any endpoint the user names."""

    endpoint: str | None
    region: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"] if self.endpoint else None,
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
            if self.endpoint
            else None,
        )


def ensure_connections_table(target: AwsTarget, table_name: str) -> None:
    """Create the connections table (key, room GSI, TTL) unless it already exists."""
    dynamodb = target.client("dynamodb")
    try:
        dynamodb.create_table(**create_table_request(table_name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    dynamodb.update_time_to_live(**time_to_live_request(table_name))


def put_parameters(target: AwsTarget, parameters: dict[str, str], secure: set[str]) -> None:
    """Write SSM parameters (overwriting), SecureString for the names in ``secure``."""
    ssm = target.client("ssm")
    for name, value in parameters.items():
        ssm.put_parameter(
            Name=name,
            Value=value,
            Type="SecureString" if name in secure else "String",
            Overwrite=True,
        )
