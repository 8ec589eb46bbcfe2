"""moto's server on 127.0.0.1 for tests: a real DynamoDB/SSM HTTP endpoint, not a mock object."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from shared.connections_table import create_table_request, time_to_live_request

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's server on a free loopback port and yield its endpoint URL.

    moto keeps its state per *process*, not per server: every ThreadedMotoServer in one pytest
    run sees the same tables and parameters. Tests therefore use unique names or overwrite.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)


def create_connections_table(endpoint: str, table_name: str) -> None:
    """The table exactly as infra declares it (key, room index, TTL)."""
    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(**create_table_request(table_name))
    dynamodb.update_time_to_live(**time_to_live_request(table_name))
