"""Token rules: each way a token can be wrong is refused by the authorizer (403, ``Deny``), and
every minting path produces tokens that pass.

Each bad token differs from a valid one (:func:`_claims`) in exactly one respect, and the valid
one is checked to pass, so a refusal is caused by the rule under test and nothing else.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalice_app.chalicelib import authorizer as auth
from chalice_app.chalicelib.secret_parameter import SecretRing
from chalice_app.chalicelib.tokens import (
    MAX_LIFETIME_S,
    TokenError,
    mint_token,
    verify_token,
)
from shared.names import TOKEN_AUDIENCE, TOKEN_ISSUER
from wsgate.cli.token import token as token_command
from wsgate.local.tokens import TokenMinter

SECRET = "s" * 48
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect"


class FixedRing(SecretRing):
    """A ring whose SSM read returns fixed values (the SSM path is tested in test_rotation)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__("/unused")
        self._fixed = secrets

    def _fetch(self) -> None:
        self._secrets = self._fixed
        self._fetched_at = self._clock()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "alice", "iat": now, "exp": now + 600, "iss": TOKEN_ISSUER}
    claims["aud"] = TOKEN_AUDIENCE
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _none_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _rs256_token(claims: dict[str, Any]) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return jwt.encode(claims, pem, algorithm="RS256")


def _decide(token: str) -> dict[str, Any]:
    event = {"methodArn": METHOD_ARN, "headers": {"Authorization": f"Bearer {token}"}}
    return auth.authorize(event, FixedRing(SECRET))


def test_the_reference_token_is_accepted() -> None:
    result = _decide(jwt.encode(_claims(), SECRET, algorithm="HS256"))
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"


HOLES = {
    "missing-exp": lambda: jwt.encode(_claims(exp=None), SECRET, algorithm="HS256"),
    "missing-iat": lambda: jwt.encode(_claims(iat=None), SECRET, algorithm="HS256"),
    "exp-beyond-max-lifetime": lambda: jwt.encode(
        _claims(exp=int(time.time()) + MAX_LIFETIME_S + 3600), SECRET, algorithm="HS256"
    ),
    "issued-long-ago-lifetime-too-long": lambda: jwt.encode(
        _claims(iat=int(time.time()) - MAX_LIFETIME_S), SECRET, algorithm="HS256"
    ),
    "wrong-iss": lambda: jwt.encode(_claims(iss="someone-else"), SECRET, algorithm="HS256"),
    "missing-iss": lambda: jwt.encode(_claims(iss=None), SECRET, algorithm="HS256"),
    "wrong-aud": lambda: jwt.encode(_claims(aud="another-api"), SECRET, algorithm="HS256"),
    "missing-aud": lambda: jwt.encode(_claims(aud=None), SECRET, algorithm="HS256"),
    "alg-none": lambda: _none_token(_claims()),
    "hs512-same-secret": lambda: jwt.encode(_claims(), SECRET, algorithm="HS512"),
    "rs256-own-key": lambda: _rs256_token(_claims()),
    "missing-sub": lambda: jwt.encode(_claims(sub=None), SECRET, algorithm="HS256"),
    "other-secret": lambda: jwt.encode(_claims(), "o" * 48, algorithm="HS256"),
}


@pytest.mark.parametrize("hole", sorted(HOLES))
def test_each_hole_is_refused_with_403(hole: str) -> None:
    token = HOLES[hole]()
    result = _decide(token)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in result and "usageIdentifierKey" not in result
    with pytest.raises(TokenError):
        verify_token(token, [SECRET])


def test_minted_tokens_carry_every_required_claim() -> None:
    token = mint_token(SECRET, "bob", ttl_s=MAX_LIFETIME_S, api_key="k" * 20)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=TOKEN_AUDIENCE)
    assert claims["iss"] == TOKEN_ISSUER and claims["aud"] == TOKEN_AUDIENCE
    assert claims["exp"] - claims["iat"] == MAX_LIFETIME_S
    assert verify_token(token, SECRET).api_key == "k" * 20


@pytest.mark.parametrize("ttl", [0, -5, MAX_LIFETIME_S + 1])
def test_minting_refuses_lifetimes_outside_the_rule(ttl: int) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        mint_token(SECRET, "bob", ttl_s=ttl)


def test_the_cli_mints_conforming_tokens_and_refuses_long_ones() -> None:
    runner = CliRunner()
    done = runner.invoke(token_command, ["--user", "zed", "--secret", SECRET, "--ttl", "120"])
    assert done.exit_code == 0, done.output
    assert verify_token(done.output.strip(), SECRET).user_id == "zed"
    too_long = str(MAX_LIFETIME_S + 1)
    refused = runner.invoke(token_command, ["--user", "zed", "--secret", SECRET, "--ttl", too_long])
    assert refused.exit_code == 2 and "--ttl" in refused.output


def test_the_local_minter_produces_conforming_tokens() -> None:
    minter = TokenMinter(secret=SECRET, api_key="dev-key-" + "x" * 20, ttl_s=12 * 3600)
    identity = verify_token(minter.mint("erin"), SECRET)
    assert (identity.user_id, identity.api_key) == ("erin", "dev-key-" + "x" * 20)
