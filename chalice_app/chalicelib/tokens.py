"""Signed user tokens (JWT, HS256): minted by ``wsgate token``, verified by the authorizer.

The algorithm is pinned on both sides, so a token claiming ``alg: none`` or an RS256 token
signed with the shared secret used as a "public key" is rejected before its signature is even
considered. pyjwt compares signatures in constant time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
LEEWAY_S = 30
"""Clock skew tolerated on ``exp`` (and ``iat``/``nbf``) between the minting host and Lambda."""
MIN_SECRET_BYTES = 32
"""RFC 7518 asks for an HMAC key at least as long as the hash: 32 bytes for HS256."""


class TokenError(Exception):
    """A token was presented but cannot be trusted (bad signature, expired, malformed)."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token says the caller is."""

    user_id: str
    name: str
    api_key: str | None


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes long")


def mint_token(
    secret: str,
    user_id: str,
    *,
    name: str | None = None,
    ttl_s: int = 3600,
    api_key: str | None = None,
    now: int | None = None,
) -> str:
    """A token for ``user_id`` valid ``ttl_s`` seconds; ``api_key`` rides along for browsers."""
    _check_secret(secret)
    if not user_id:
        raise ValueError("a token needs a user id (its 'sub')")
    issued = int(time.time()) if now is None else now
    claims: dict[str, object] = {"sub": user_id, "iat": issued, "exp": issued + ttl_s}
    if name:
        claims["name"] = name
    if api_key:
        claims["apiKey"] = api_key
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> Identity:
    """The identity in ``token``, or :class:`TokenError` saying why it is not trusted."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            leeway=LEEWAY_S,
            options={"require": ["sub", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"invalid token: {type(error).__name__}") from None
    user_id = claims["sub"]
    if not isinstance(user_id, str) or not user_id:
        raise TokenError("invalid token: 'sub' must be a non-empty string")
    name = claims.get("name")
    api_key = claims.get("apiKey")
    return Identity(
        user_id=user_id,
        name=name if isinstance(name, str) and name else user_id,
        api_key=api_key if isinstance(api_key, str) and api_key else None,
    )
