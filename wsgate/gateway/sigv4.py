"""Checking the SigV4 signature of an ``@connections`` request, with botocore's own signer.

``@connections`` calls are IAM-authorized: each request is signed with Signature Version 4 for
the service ``execute-api`` and the API's region
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html).
The check recomputes the signature from what arrived (method, raw path, query, the headers
named in ``SignedHeaders``, the body's SHA-256) with :class:`botocore.auth.SigV4Auth`, the
signer boto3, aiobotocore and the service's push client use, so the two sides cannot drift.

What a refused request gets. UNCONFIRMED: AWS documents the gateway-response types
(MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE, EXPIRED_TOKEN: all 403,
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)
but not the ``@connections`` bodies; the texts below are API Gateway's observed ones for
execute-api, e.g. a 403 ``InvalidSignatureException`` "Signature expired: ... - 5 min." answered
to a PostToConnection (github.com/cognitect-labs/aws-api/issues/255). The window is therefore
5 minutes either side of ``X-Amz-Date``: the execute-api value seen there, and the IAM guide's
"in most cases, a request must reach AWS within five minutes of the time stamp"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html), not the 15
minutes some other services allow.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.credentials import Credentials
from multidict import CIMultiDict, CIMultiDictProxy

if TYPE_CHECKING:
    from botocore.awsrequest import AWSRequest

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
CLOCK_SKEW = timedelta(minutes=5)
AMZ_DATE = "%Y%m%dT%H%M%SZ"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


class SignatureError(Exception):
    """A refused request: the status, ``x-amzn-ErrorType`` and message API Gateway answers."""

    status = 403
    error_type = "InvalidSignatureException"

    @property
    def message(self) -> str:
        return str(self)


class MissingAuthenticationToken(SignatureError):
    error_type = "MissingAuthenticationTokenException"

    def __init__(self) -> None:
        super().__init__("Missing Authentication Token")


class IncompleteSignature(SignatureError):
    error_type = "IncompleteSignatureException"


class UnrecognizedClient(SignatureError):
    error_type = "UnrecognizedClientException"

    def __init__(self) -> None:
        super().__init__("The security token included in the request is invalid.")


class InvalidSignature(SignatureError):
    error_type = "InvalidSignatureException"


MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@dataclass(frozen=True)
class SignedRequest:
    """The parts of a received request a signature covers, exactly as they arrived."""

    method: str
    raw_path: str
    """Path and query string as sent on the wire (percent-escapes untouched)."""
    headers: CIMultiDictProxy[str] | Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class SigV4Verifier:
    """Accepts requests signed with one of ``credentials`` (access key id -> secret key)."""

    credentials: Mapping[str, str]
    region: str

    def verify(self, request: SignedRequest, now: datetime | None = None) -> str:
        """The access key id that signed ``request``; raises :class:`SignatureError`."""
        header = _header(request.headers, "Authorization")
        if header is None:
            raise MissingAuthenticationToken()
        match = _AUTHORIZATION.match(header)
        if match is None:
            raise IncompleteSignature(
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                f"parameters (algorithm {ALGORITHM}). Authorization={header[:40]}"
            )
        access_key, scope = _credential(match["credential"])
        secret = self.credentials.get(access_key)
        if secret is None:
            raise UnrecognizedClient()
        amz_date = _header(request.headers, "X-Amz-Date") or ""
        signed_at = _timestamp(amz_date)
        self._check_scope(scope, amz_date)
        _check_clock(signed_at, now or datetime.now(UTC))
        expected = self.signature(request, match["signed"].split(";"), access_key, secret)
        if not hmac.compare_digest(expected, match["signature"]):
            raise InvalidSignature(MISMATCH)
        return access_key

    def _check_scope(self, scope: list[str], amz_date: str) -> None:
        date, region, service, terminator = scope
        if date != amz_date[:8]:
            raise InvalidSignature(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        if region != self.region:
            raise InvalidSignature(
                f"Credential should be scoped to a valid region, not '{region}'. "
                f"Expected '{self.region}'."
            )
        if service != SERVICE:
            raise InvalidSignature(f"Credential should be scoped to correct service: '{SERVICE}'.")
        if terminator != "aws4_request":
            raise InvalidSignature(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{terminator}'."
            )

    def signature(
        self, request: SignedRequest, signed_headers: list[str], access_key: str, secret: str
    ) -> str:
        """What botocore's signer computes for this request with this secret."""
        names = {name.lower() for name in signed_headers}
        if "host" not in names:
            raise InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        host = _header(request.headers, "Host") or ""
        received = _Received(request.method, f"http://{host}{request.raw_path}", request.body)
        for name, value in _items(request.headers):
            if name.lower() in names:
                received.headers.add(name, value)
        declared = _header(request.headers, "X-Amz-Content-SHA256")
        if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
            raise InvalidSignature(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        amz_date = _header(request.headers, "X-Amz-Date") or ""
        received.context["timestamp"] = amz_date
        aws_request = cast("AWSRequest", received)  # the signer reads only _Received's fields
        signer = SigV4Auth(Credentials(access_key, secret), SERVICE, self.region)
        canonical = signer.canonical_request(aws_request)
        if signer.signed_headers(signer.headers_to_sign(aws_request)) != ";".join(sorted(names)):
            raise InvalidSignature(MISMATCH)  # a signed header is missing or not signable
        string_to_sign = signer.string_to_sign(aws_request, canonical)
        return str(signer.signature(string_to_sign, aws_request))


@dataclass
class _Received:
    """A received request in the shape botocore's signer reads (``AWSRequest``'s attributes),
    without ``AWSRequest``'s preparation step, which a check does not need."""

    method: str
    url: str
    body: bytes
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    params: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def _header(headers: CIMultiDictProxy[str] | Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, CIMultiDictProxy):
        return headers.get(name)
    wanted = name.lower()
    return next((v for k, v in _items(headers) if k.lower() == wanted), None)


def _items(headers: CIMultiDictProxy[str] | Mapping[str, str]) -> list[tuple[str, str]]:
    return list(headers.items())


def _credential(credential: str) -> tuple[str, list[str]]:
    parts = credential.split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            f"Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'"
        )
    return parts[0], parts[1:]


def _timestamp(amz_date: str) -> datetime:
    try:
        if len(amz_date) != 16 or amz_date[8] != "T" or amz_date[15] != "Z":
            raise ValueError(amz_date)
        return datetime(
            int(amz_date[0:4]),
            int(amz_date[4:6]),
            int(amz_date[6:8]),
            int(amz_date[9:11]),
            int(amz_date[11:13]),
            int(amz_date[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        raise IncompleteSignature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None


def _check_clock(signed_at: datetime, now: datetime) -> None:
    stamp = signed_at.strftime(AMZ_DATE)
    if signed_at < now - CLOCK_SKEW:
        earliest = (now - CLOCK_SKEW).strftime(AMZ_DATE)
        raise InvalidSignature(
            f"Signature expired: {stamp} is now earlier than {earliest} "
            f"({now.strftime(AMZ_DATE)} - 5 min.)"
        )
    if signed_at > now + CLOCK_SKEW:
        latest = (now + CLOCK_SKEW).strftime(AMZ_DATE)
        raise InvalidSignature(
            f"Signature not yet current: {stamp} is still later than {latest} "
            f"({now.strftime(AMZ_DATE)} + 5 min.)"
        )


async def refused(request: web.Request, verifier: SigV4Verifier | None) -> web.Response | None:
    """AWS's 403 answer for a request not signed by an accepted key; None to go on.

    ``verifier`` None accepts every request: only for a gateway explicitly configured so.
    """
    if verifier is None:
        return None
    signed = SignedRequest(request.method, request.raw_path, request.headers, await request.read())
    try:
        verifier.verify(signed)
    except SignatureError as error:
        return web.json_response(
            {"message": error.message},
            status=error.status,
            headers={"x-amzn-ErrorType": error.error_type},
        )
    return None
