"""Rotating the token secret (``put-parameter --overwrite``) leaves no gap.

Against moto's server, through the Lambda handler: tokens minted with the secret before a
rotation and with the one after it are both accepted immediately after the rotation (the
authorizer keeps the previous parameter version, and a signature it does not know triggers one
early refresh), and two rotations later the oldest secret is refused.

SSM keeps every version of a parameter and resolves ``name:version`` selectors in GetParameter:
https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from chalice.test import Client

from chalice_app.app import app
from chalice_app.chalicelib import secret_parameter
from chalice_app.chalicelib.secret_parameter import SecretRing
from chalice_app.chalicelib.tokens import mint_token
from tests.chalice.conftest import SECRET_NAME
from tests.support.moto import client

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect"


def _effect(token: str) -> str:
    event = {"methodArn": METHOD_ARN, "headers": {"Authorization": f"Bearer {token}"}}
    with Client(app) as test_client:
        result: Any = test_client.lambda_.invoke("authorizer", event).payload
    return str(result["policyDocument"]["Statement"][0]["Effect"])


def _rotate(aws_endpoint: str) -> str:
    value = secrets.token_urlsafe(48)
    client("ssm", aws_endpoint).put_parameter(
        Name=SECRET_NAME, Value=value, Type="SecureString", Overwrite=True
    )
    return value


def test_old_and_new_secret_both_work_right_after_a_rotation(
    secret: str, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    ring = SecretRing(SECRET_NAME, clock=lambda: now[0])  # the default TTL and interval
    monkeypatch.setattr(secret_parameter, "_default_ring", ring)
    old_token = mint_token(secret, "alice")
    assert _effect(old_token) == "Allow"  # the cache now holds the old secret
    new_secret = _rotate(aws_endpoint)
    new_token = mint_token(new_secret, "alice")
    assert _effect(new_token) == "Allow"  # unknown signature: one refresh finds the new one
    assert _effect(old_token) == "Allow"  # the previous version is still accepted
    now[0] += 60  # rotations further apart than the refresh interval, closer than the TTL
    newest = _rotate(aws_endpoint)
    assert _effect(mint_token(newest, "alice")) == "Allow"
    assert _effect(new_token) == "Allow"
    assert _effect(old_token) == "Deny"  # two rotations later: retired


def test_refreshes_on_unknown_signatures_are_rate_limited(
    secret: str, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    ring = SecretRing(SECRET_NAME, refresh_interval_s=10.0, clock=lambda: now[0])
    monkeypatch.setattr(secret_parameter, "_default_ring", ring)
    forged = mint_token("f" * 48, "mallory")
    for _ in range(20):
        assert _effect(forged) == "Deny"
    assert ring.fetches == 2  # the first fill and one forced refresh, not 21 reads
    now[0] += 11
    assert _effect(forged) == "Deny"
    assert ring.fetches == 3  # one more refresh once the interval has passed
    # Within the interval, a genuinely new secret waits for the next refresh window.
    fresh = _rotate(aws_endpoint)
    assert _effect(mint_token(fresh, "alice")) == "Deny"
    now[0] += 11
    assert _effect(mint_token(fresh, "alice")) == "Allow"


def test_cache_ttl_bounds_how_long_a_retired_secret_lives(
    secret: str, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    ring = SecretRing(SECRET_NAME, ttl_s=300.0, clock=lambda: now[0])
    monkeypatch.setattr(secret_parameter, "_default_ring", ring)
    old_token = mint_token(secret, "alice")
    assert _effect(old_token) == "Allow"
    _rotate(aws_endpoint)
    _rotate(aws_endpoint)
    assert _effect(old_token) == "Allow"  # cached, and a known signature triggers no refresh
    now[0] += 301
    assert _effect(old_token) == "Deny"


def test_a_first_version_parameter_has_one_secret(aws_endpoint: str, secret: str) -> None:
    name = f"/wsgate-rotation-{secrets.token_hex(4)}/token-secret"
    value = "v" * 48
    ssm = client("ssm", aws_endpoint)
    ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    assert SecretRing(name).secrets() == (value,)
