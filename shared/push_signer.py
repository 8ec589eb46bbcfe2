"""SigV4 for ``PostToConnection``, built from parts computed once per endpoint, day and fan-out.

A fan-out signs the same bytes for hundreds of connections of one endpoint: only the path (the
connection id) and, at most once a second, the date change between requests. botocore's
``SigV4Auth`` rebuilds everything per request (URL parsing, header maps, the payload hash, four
HMACs for the key); here the canonical request is a string join of precomputed parts and the
per-request work is one SHA-256 and one HMAC. botocore's signer stays the oracle:
``tests/service/test_push_signer.py`` checks the headers are byte for byte what ``SigV4Auth``
writes, and the local gateway checks the signature of every ``@connections`` call.

The algorithm is AWS's (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
for services other than S3 the canonical URI is the path URI-encoded once more, which is why
an id's ``%3D`` is signed as ``%253D``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from botocore.utils import normalize_url_path, percent_encode

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"


class FrozenCredentials(Protocol):
    """What botocore's ``ReadOnlyCredentials`` carries."""

    @property
    def access_key(self) -> str: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def token(self) -> str | None: ...


@dataclass(frozen=True)
class Payload:
    """The body of a fan-out and its SHA-256, computed once for every member."""

    data: bytes
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> Payload:
        return cls(data, hashlib.sha256(data).hexdigest())


def amz_date(now: float) -> str:
    """SigV4's ``X-Amz-Date`` (``20261125T171500Z``) for a Unix time."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def derive_signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """SigV4's signing key for one secret, day (``YYYYMMDD``), region and service."""
    k_date = _hmac(f"AWS4{secret}".encode(), day)
    return _hmac(_hmac(_hmac(k_date, region), service), "aws4_request")


class PushSigner:
    """Signs ``POST {base_path}{id}`` requests for one host, region and set of credentials.

    Not bound to a clock: callers pass ``X-Amz-Date`` (:func:`amz_date`), so the same value
    can serve every request signed within a second and tests can pin it.
    """

    def __init__(self, host: str, base_path: str, region: str, service: str = SERVICE) -> None:
        if not base_path.startswith("/") or not base_path.endswith("/"):
            raise ValueError(f"base_path must start and end with '/': {base_path!r}")
        self.host = host
        self.base_path = base_path
        self._region = region
        self._service = service
        self._canonical_base = quote(normalize_url_path(base_path), safe="/~")
        self._keys: dict[tuple[str, str], bytes] = {}

    def signing_key(self, secret: str, day: str) -> bytes:
        """The derived key (four HMACs), once per secret and day."""
        key = self._keys.get((secret, day))
        if key is None:
            key = derive_signing_key(secret, day, self._region, self._service)
            self._keys.clear()  # one live key: the previous day's or secret's is done
            self._keys[(secret, day)] = key
        return key

    def canonical_path(self, encoded_id: str) -> str:
        """The canonical URI for ``base_path + encoded_id``, as botocore computes it."""
        if encoded_id in ("", ".", ".."):  # dot segments: let botocore's normalizer decide
            return quote(normalize_url_path(self.base_path + encoded_id), safe="/~")
        return self._canonical_base + quote(encoded_id, safe="/~")

    def headers(
        self,
        encoded_id: str,
        payload: Payload,
        credentials: FrozenCredentials,
        date: str,
    ) -> list[tuple[str, str]]:
        """The headers to send (besides framing): Host, X-Amz-Date, the token, Authorization.

        ``encoded_id`` is the connection id percent-encoded as botocore's serializer writes it
        (:func:`encode_id`): the path is signed exactly as sent.
        """
        token = credentials.token
        if token:
            canonical_headers = (
                f"host:{self.host}\nx-amz-date:{date}\nx-amz-security-token:{token}\n"
            )
            signed = "host;x-amz-date;x-amz-security-token"
        else:
            canonical_headers = f"host:{self.host}\nx-amz-date:{date}\n"
            signed = "host;x-amz-date"
        canonical = (
            f"POST\n{self.canonical_path(encoded_id)}\n\n{canonical_headers}\n"
            f"{signed}\n{payload.sha256}"
        )
        day = date[:8]
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"{ALGORITHM}\n{date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = self.signing_key(credentials.secret_key, day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        authorization = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        headers = [("Host", self.host), ("X-Amz-Date", date)]
        if token:
            headers.append(("X-Amz-Security-Token", token))
        headers.append(("Authorization", authorization))
        return headers


def encode_id(connection_id: str) -> str:
    """The id as botocore's REST serializer puts it in the path (every reserved character)."""
    encoded: str = percent_encode(connection_id)
    return encoded
