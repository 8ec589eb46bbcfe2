"""The ``$connect`` authorizer, invoked through Chalice's test client like Lambda would."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from chalice.test import Client

from chalice_app.app import app
from chalice_app.chalicelib.tokens import mint_token

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect"


def _event(headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Any:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": headers or {},
        "queryStringParameters": query or {},
        "requestContext": {"routeKey": "$connect", "connectionId": "L0SM9cOFvHcCIhw="},
    }


def _invoke(event: Any) -> Any:
    with Client(app) as test_client:
        return test_client.lambda_.invoke("authorizer", event).payload


def _effect(result: Any) -> str:
    return str(result["policyDocument"]["Statement"][0]["Effect"])


@pytest.mark.parametrize("header", ["Authorization", "authorization", "AUTHORIZATION"])
def test_header_token_any_case_with_or_without_bearer(secret: str, header: str) -> None:
    token = mint_token(secret, "alice", name="Alice")
    for value in (token, f"Bearer {token}", f"bearer  {token}"):
        result = _invoke(_event({header: value}))
        assert result == {
            "principalId": "alice",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
                ],
            },
            "context": {"userId": "alice", "name": "Alice"},
        }


def test_query_string_token_and_usage_identifier_key(secret: str) -> None:
    token = mint_token(secret, "bob", api_key="k" * 30)
    result = _invoke(_event(query={"token": token}))
    assert _effect(result) == "Allow"
    assert result["usageIdentifierKey"] == "k" * 30
    assert result["context"] == {"userId": "bob", "name": "bob"}


@pytest.mark.parametrize("header", ["  ", "Bearer", "Bearer ", "bearer   "])
def test_missing_token_is_the_401_path(secret: str, header: str) -> None:
    """An ``Authorization`` header with no credentials in it is "no token": 401, not 403."""
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _invoke(_event({"Authorization": header}))


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", ""])
def test_empty_header_falls_back_to_the_query_token(secret: str, header: str) -> None:
    token = mint_token(secret, "carol")
    result = _invoke(_event({"Authorization": header}, query={"token": token}))
    assert _effect(result) == "Allow" and result["principalId"] == "carol"


def test_a_token_named_like_the_scheme_is_still_a_token(secret: str) -> None:
    """``Bearerxyz`` is a (bad) token, not the scheme followed by nothing: 403."""
    assert _effect(_invoke(_event({"Authorization": "Bearerxyz"}))) == "Deny"


def _forged_none_token() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': 'eve', 'exp': 2**31})}."


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda s: mint_token(s, "a", now=int(time.time()) - 4000), id="expired"),
        pytest.param(lambda s: mint_token("x" * 40, "a"), id="wrong-signature"),
        pytest.param(lambda s: _forged_none_token(), id="alg-none"),
        pytest.param(lambda s: "not.a.jwt", id="malformed"),
        pytest.param(
            lambda s: jwt.encode({"sub": "a", "exp": 2**31}, s, algorithm="HS512"),
            id="other-algorithm",
        ),
        pytest.param(lambda s: jwt.encode({"exp": 2**31}, s, algorithm="HS256"), id="no-subject"),
    ],
)
def test_bad_tokens_are_denied(secret: str, make_token: Any, caplog: Any) -> None:
    token = make_token(secret)
    result = _invoke(_event({"Authorization": f"Bearer {token}"}))
    assert _effect(result) == "Deny"
    assert "context" not in result and "usageIdentifierKey" not in result
    assert token not in caplog.text


def test_expiry_has_a_small_leeway(secret: str) -> None:
    token = mint_token(secret, "a", ttl_s=60, now=int(time.time()) - 65)
    assert _effect(_invoke(_event({"Authorization": token}))) == "Allow"
