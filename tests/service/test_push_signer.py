"""The push signer writes byte for byte the headers botocore's own ``SigV4Auth`` writes.

botocore is the oracle: the same request (method, URL as the REST serializer encodes it, body,
``Host``) signed by ``SigV4Auth`` at the same instant must carry the same ``Authorization``,
``X-Amz-Date`` and ``X-Amz-Security-Token``. End to end, the local gateway's SigV4 check
(``tests/service/test_push_http_client.py``) refuses a wrong signature with 403.
"""

from __future__ import annotations

import datetime

import pytest
from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.aio_client import host_header
from shared.push_signer import Payload, PushSigner, amz_date, encode_id

ENDPOINTS = [
    "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "http://127.0.0.1:8000/dev",
    "https://abc123.execute-api.eu-west-1.amazonaws.com:443/my%20stage",
]


def _botocore(
    credentials: ReadOnlyCredentials, url: str, body: bytes, now: datetime.datetime
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Host": host_header(url)})
    signer = auth.SigV4Auth(credentials, "execute-api", "eu-west-1")
    original = auth.get_current_datetime
    auth.get_current_datetime = lambda: now
    try:
        signer.add_auth(request)
    finally:
        auth.get_current_datetime = original
    return dict(request.headers.items())


def _ours(
    credentials: ReadOnlyCredentials, endpoint: str, connection_id: str, body: bytes, date: str
) -> dict[str, str]:
    base = endpoint.split("//", 1)[1].split("/", 1)[1]
    signer = PushSigner(host_header(endpoint), f"/{base}/@connections/", "eu-west-1")
    return dict(signer.headers(encode_id(connection_id), Payload.of(body), credentials, date))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEBaaDHt0b2tlbi8rPQ=="])
@pytest.mark.parametrize("day", [1, 2])
def test_same_headers_as_botocore(endpoint: str, token: str | None, day: int) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret", token).get_frozen_credentials()
    now = datetime.datetime(2026, 11, day, 23, 59, 59)
    date = amz_date(now.replace(tzinfo=datetime.UTC).timestamp())
    connection_id = "L0SM9cOFvHcCIhw="
    url = f"{endpoint}/@connections/{encode_id(connection_id)}"
    body = b'{"type":"message","text":"hi"}'
    assert _ours(credentials, endpoint, connection_id, body, date) == _botocore(
        credentials, url, body, now
    )


@settings(max_examples=200, deadline=None)
@given(
    connection_id=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=64),
    token=st.one_of(st.none(), st.text(alphabet="ABCxyz019+/=", min_size=1, max_size=30)),
)
def test_any_id_and_body_sign_as_botocore(connection_id: str, body: bytes, token: str) -> None:
    """Ids are API Gateway's, but the path encoding must hold for any text (``/``, ``%``,
    ``.``, spaces, non-ASCII), since a wrong one is a 403 for that member only."""
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI", token).get_frozen_credentials()
    now = datetime.datetime(2026, 11, 25, 17, 0, 0)
    date = amz_date(now.replace(tzinfo=datetime.UTC).timestamp())
    endpoint = ENDPOINTS[0]
    url = f"{endpoint}/@connections/{encode_id(connection_id)}"
    assert _ours(credentials, endpoint, connection_id, body, date) == _botocore(
        credentials, url, body, now
    )


def test_one_key_derivation_per_day() -> None:
    signer = PushSigner("h", "/prod/@connections/", "eu-west-1")
    first = signer.signing_key("secret", "20261125")
    assert signer.signing_key("secret", "20261125") is first
    assert signer.signing_key("secret", "20261126") != first
    assert signer.signing_key("other", "20261126") != signer.signing_key("secret", "20261126")


def test_base_path_must_be_a_directory() -> None:
    with pytest.raises(ValueError, match="base_path"):
        PushSigner("h", "/prod/@connections", "eu-west-1")
