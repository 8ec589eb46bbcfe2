"""Signed user tokens (JWT, HS256): minted by ``wsgate token``, verified by the authorizer.

The algorithm is pinned on both sides, so a token claiming ``alg: none`` or an RS256 token
signed with the shared secret used as a "public key" is rejected before its signature is even
considered. pyjwt compares signatures in constant time.

Every token names its issuer and audience and expires within :data:`MAX_LIFETIME_S`: a token
that leaks is useful for a bounded time only, and a token minted for another service that
happens to share the secret is not accepted here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from shared.names import TOKEN_AUDIENCE, TOKEN_ISSUER

ALGORITHM = "HS256"
LEEWAY_S = 30
"""Clock skew tolerated on ``exp`` (and ``iat``/``nbf``) between the minting host and Lambda."""
MAX_LIFETIME_S = 24 * 60 * 60
"""No token lives longer than a day, however it was minted: ``exp - iat`` and ``exp - now``."""
MIN_SECRET_BYTES = 32
"""RFC 7518 asks for an HMAC key at least as long as the hash: 32 bytes for HS256."""
REQUIRED_CLAIMS = ("sub", "exp", "iat", "iss", "aud")


class TokenError(Exception):
    """A token was presented but cannot be trusted (bad signature, expired, malformed)."""


class SignatureMismatch(TokenError):
    """No known secret produced this signature: it may be signed with a secret we have not
    fetched yet (a rotation since the cache was filled), or it is forged."""


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
    issuer: str = TOKEN_ISSUER,
    audience: str = TOKEN_AUDIENCE,
) -> str:
    """A token for ``user_id`` valid ``ttl_s`` seconds; ``api_key`` rides along for browsers."""
    _check_secret(secret)
    if not user_id:
        raise ValueError("a token needs a user id (its 'sub')")
    if not 0 < ttl_s <= MAX_LIFETIME_S:
        raise ValueError(f"the token lifetime must be 1..{MAX_LIFETIME_S} seconds, not {ttl_s}")
    issued = int(time.time()) if now is None else now
    claims: dict[str, object] = {
        "sub": user_id,
        "iat": issued,
        "exp": issued + ttl_s,
        "iss": issuer,
        "aud": audience,
    }
    if name:
        claims["name"] = name
    if api_key:
        claims["apiKey"] = api_key
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _decode(token: str, secret: str, issuer: str, audience: str) -> dict[str, object]:
    try:
        return dict(
            jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                leeway=LEEWAY_S,
                issuer=issuer,
                audience=audience,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        )
    except jwt.InvalidSignatureError:
        raise SignatureMismatch("invalid token: signature matches no current secret") from None
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"invalid token: {type(error).__name__}: {error}") from None


def _check_lifetime(claims: dict[str, object], now: float) -> None:
    expires, issued = claims["exp"], claims["iat"]
    if not isinstance(expires, int | float) or not isinstance(issued, int | float):
        raise TokenError("invalid token: 'exp' and 'iat' must be numbers")
    if expires - issued > MAX_LIFETIME_S or expires - now > MAX_LIFETIME_S + LEEWAY_S:
        raise TokenError(f"invalid token: lifetime exceeds {MAX_LIFETIME_S} seconds")


def verify_token(
    token: str,
    secrets: str | Sequence[str],
    *,
    issuer: str = TOKEN_ISSUER,
    audience: str = TOKEN_AUDIENCE,
    now: float | None = None,
) -> Identity:
    """The identity in ``token``, or :class:`TokenError` saying why it is not trusted.

    ``secrets`` lists every secret currently valid (the current one and the one before a
    rotation); a token signed with any of them is accepted, so rotation has no gap.
    """
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    claims: dict[str, object] | None = None
    for secret in candidates:
        try:
            claims = _decode(token, secret, issuer, audience)
            break
        except SignatureMismatch:
            continue
    if claims is None:
        raise SignatureMismatch("invalid token: signature matches no current secret")
    _check_lifetime(claims, time.time() if now is None else now)
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
