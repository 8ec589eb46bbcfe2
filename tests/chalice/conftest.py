"""The Lambdas under Chalice's test client, with SSM/DynamoDB/API Gateway on moto's server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from chalice_app.chalicelib import secret_parameter
from tests.support.moto import client, moto_server

SECRET_NAME = "/wsgate/token-secret"


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def secret(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SecureString secret, reached through boto3's standard endpoint variable."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", aws_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    value = secrets.token_urlsafe(48)
    client("ssm", aws_endpoint).put_parameter(
        Name=SECRET_NAME, Value=value, Type="SecureString", Overwrite=True
    )
    secret_parameter.clear_cache()
    yield value
    secret_parameter.clear_cache()
