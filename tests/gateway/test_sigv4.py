"""``@connections`` requires SigV4, checked by recomputing the signature with botocore's signer.

AWS: calls to ``@connections`` are SigV4-signed for ``execute-api``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html);
refusals are 403 gateway responses (MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE:
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
The bodies and the 5-minute window are UNCONFIRMED for @connections (see ``wsgate.gateway.sigv4``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import boto3
import pytest
from aiobotocore.session import get_session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from multidict import CIMultiDict, CIMultiDictProxy
from websockets.asyncio.client import connect

from shared.connections_api import ConnectionsApi
from tests.gateway.conftest import Backend, GatewayFactory
from tests.gateway.templates import KEY, http_api
from tests.support.connections_endpoint import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    ConnectionsEndpoint,
    signed_headers,
)
from wsgate.gateway.sigv4 import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    SignedRequest,
    SigV4Verifier,
    UnrecognizedClient,
)

KEYED = {"x-api-key": KEY}
URL = "http://127.0.0.1:3001/prod/@connections/abc%3D"
VERIFIER = SigV4Verifier({ACCESS_KEY: SECRET_KEY}, REGION)


def _signed(
    body: bytes = b"hi",
    secret: str = SECRET_KEY,
    region: str = REGION,
    service: str = "execute-api",
    url: str = URL,
) -> SignedRequest:
    """A request exactly as botocore signs it (with a session token, as the service does)."""
    request = AWSRequest(method="POST", url=url, data=body)
    SigV4Auth(Credentials(ACCESS_KEY, secret, "token"), service, region).add_auth(request)
    headers = CIMultiDict(request.headers.items())
    headers["Host"] = "127.0.0.1:3001"
    headers["User-Agent"] = "not signed, not checked"
    path = url.split("3001", 1)[1]
    return SignedRequest("POST", path, CIMultiDictProxy(headers), body)


def test_a_botocore_signature_is_accepted() -> None:
    assert VERIFIER.verify(_signed()) == ACCESS_KEY
    query = _signed(url=URL + "?b=2&a=1")
    assert VERIFIER.verify(query) == ACCESS_KEY


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda r: SignedRequest(r.method, r.raw_path, r.headers, b"tampered"), InvalidSignature),
        (lambda r: SignedRequest("DELETE", r.raw_path, r.headers, r.body), InvalidSignature),
        (lambda r: SignedRequest(r.method, r.raw_path + "x", r.headers, r.body), InvalidSignature),
        (lambda r: SignedRequest(r.method, r.raw_path, {}, r.body), MissingAuthenticationToken),
    ],
)
def test_anything_changed_after_signing_is_refused(change: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        VERIFIER.verify(change(_signed()))


def test_wrong_secret_unknown_key_region_service() -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        VERIFIER.verify(_signed(secret="other"))
    with pytest.raises(UnrecognizedClient):
        SigV4Verifier({"AKIDOTHER": SECRET_KEY}, REGION).verify(_signed())
    with pytest.raises(InvalidSignature, match="region"):
        VERIFIER.verify(_signed(region="eu-west-1"))
    with pytest.raises(InvalidSignature, match="service"):
        VERIFIER.verify(_signed(service="s3"))
    headers = CIMultiDict(_signed().headers)
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x"
    with pytest.raises(IncompleteSignature):
        VERIFIER.verify(SignedRequest("POST", "/prod/@connections/a", headers, b""))


def test_the_signing_time_window() -> None:
    request = _signed()
    signed_at = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=UTC
    )
    assert VERIFIER.verify(request, now=signed_at + timedelta(minutes=4, seconds=59))
    with pytest.raises(InvalidSignature, match="Signature expired"):
        VERIFIER.verify(request, now=signed_at + timedelta(minutes=5, seconds=1))
    with pytest.raises(InvalidSignature, match="not yet current"):
        VERIFIER.verify(request, now=signed_at - timedelta(minutes=5, seconds=1))


async def _connection_id(backend: Backend) -> str:
    return str((await backend.wait_for("/connect")).body["connectionId"])


async def test_the_gateway_refuses_unsigned_and_badly_signed_requests(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api())
    async with connect(running.url, additional_headers=KEYED) as client:
        url = f"{running.connections_url}/@connections/{await _connection_id(backend)}"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=b"unsigned") as response:
                assert response.status == 403
                assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
                assert await response.json() == {"message": "Missing Authentication Token"}
            headers = signed_headers("POST", url, b"signed")
            async with http.post(url, data=b"tampered", headers=headers) as response:
                assert response.status == 403
                assert response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
            for method in ("GET", "DELETE"):
                async with http.request(method, url) as response:
                    assert response.status == 403
            async with http.post(url, data=b"signed", headers=headers) as response:
                assert response.status == 200
        assert await asyncio.wait_for(client.recv(), 5) == "signed"  # and nothing before it
    wrong = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=running.connections_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="wrong",
    )
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(wrong.get_connection, ConnectionId="x")
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"


async def test_unsigned_requests_pass_only_when_configured_so(
    gateway: GatewayFactory, backend: Backend
) -> None:
    running = await gateway(http_api(), connections_credentials=None)
    async with connect(running.url, additional_headers=KEYED) as client:
        url = f"{running.connections_url}/@connections/{await _connection_id(backend)}"
        async with aiohttp.ClientSession() as http, http.post(url, data=b"open") as response:
            assert response.status == 200
        assert await asyncio.wait_for(client.recv(), 5) == "open"


async def test_the_service_push_fast_path_signs() -> None:
    """``ConnectionsApi.post`` delivers on its first, fast-path-signed attempt: no 403 that the
    botocore fallback would then have hidden."""
    endpoint = ConnectionsEndpoint()
    await endpoint.start()
    endpoint.open_ids.update({"a1=", "b2="})
    session = get_session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY, "token")
    try:
        unsigned = f"{endpoint.url}/@connections/c3="  # the endpoint does refuse those
        async with aiohttp.ClientSession() as http, http.post(unsigned, data=b"x") as response:
            assert response.status == 403
        assert endpoint.refused == ["POST /prod/@connections/c3="]
        endpoint.refused.clear()
        async with ConnectionsApi(endpoint.url, region=REGION, session=session) as api:
            assert await api.post("a1=", b'{"n":1}')
            result = await api.fan_out(["a1=", "b2="], b"x")
    finally:
        await endpoint.stop()
    assert result.delivered == 2
    assert endpoint.refused == []
    assert dict(endpoint.attempts) == {"a1=": 2, "b2=": 1}
    assert json.loads(endpoint.received["a1="][0]) == {"n": 1}


def test_cli_credentials_option() -> None:
    import click

    from wsgate.cli.gateway import _credentials

    assert _credentials(("AKID:secret:with:colons",)) == {"AKID": "secret:with:colons"}
    with pytest.raises(click.BadParameter, match="ACCESS_KEY_ID:SECRET"):
        _credentials(("no-secret",))


async def test_bench_push_sink_checks_signatures() -> None:
    """The bench's sink refuses an unsigned push, so a push client that stopped signing
    fails the bench instead of being measured."""
    from aiohttp.test_utils import TestServer

    from wsgate.bench.push_sink import build_app

    server = TestServer(build_app(0.0), host="127.0.0.1")
    await server.start_server()
    url = f"http://127.0.0.1:{server.port}/prod"
    session = get_session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY)
    try:
        unsigned = f"{url}/@connections/a="
        async with aiohttp.ClientSession() as http, http.post(unsigned, data=b"x") as response:
            assert response.status == 403
        async with ConnectionsApi(url, region=REGION, session=session) as api:
            assert (await api.fan_out(["a=", "b="], b"x")).delivered == 2
    finally:
        await server.close()
