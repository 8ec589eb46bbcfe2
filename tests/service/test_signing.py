"""The fast path's signer signs byte for byte as botocore's own SigV4 signer does."""

from __future__ import annotations

import datetime

import pytest
from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shared.aio_client import SigV4WithKeyCache, host_header

URLS = [
    "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw%3D",
    "http://127.0.0.1:8000/",
    "https://dynamodb.us-east-1.amazonaws.com:443/",
]


@pytest.mark.parametrize("url", URLS)
def test_same_authorization_as_botocore(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret", "token").get_frozen_credentials()
    keys: dict[object, bytes] = {}
    for day in (1, 2, 2):  # a new day derives a new key; the same day reuses it
        now = datetime.datetime(2026, 11, day, 12, 0, 0)
        monkeypatch.setattr(auth, "get_current_datetime", lambda now=now: now)
        plain = AWSRequest(method="POST", url=url, data=b'{"a":1}')
        auth.SigV4Auth(credentials, "execute-api", "eu-west-1").add_auth(plain)
        host = {"Host": host_header(url)}
        fast = AWSRequest(method="POST", url=url, data=b'{"a":1}', headers=host)
        SigV4WithKeyCache(credentials, "execute-api", "eu-west-1", keys).add_auth(fast)
        assert fast.headers["Authorization"] == plain.headers["Authorization"]
    assert len(keys) == 1
