"""The store's fast path (``SignedHttp`` on the lean keep-alive client) answers by itself,
against moto's server (which closes every connection: each call needs a fresh one), with the
headers botocore's parser and retry checks read."""

from __future__ import annotations

import json

from aiobotocore.session import get_session

from shared.aio_client import SignedHttp
from tests.support.moto import REGION


async def test_get_item_on_the_fast_path_alone(dynamodb_endpoint: str, table_name: str) -> None:
    session = get_session()
    session.set_credentials("testing", "testing")
    http = SignedHttp("dynamodb", REGION, session, limit=4)
    await http.open()
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Content-Type": "application/x-amz-json-1.0",
    }
    body = json.dumps({"TableName": table_name, "Key": {"connectionId": {"S": "none="}}})
    missing = json.dumps({"TableName": "no-such-table", "Key": {"connectionId": {"S": "a="}}})
    try:
        answers = [
            await http.send("POST", dynamodb_endpoint + "/", body.encode(), headers)
            for _ in range(3)
        ]
        error = await http.send("POST", dynamodb_endpoint + "/", missing.encode(), headers)
    finally:
        await http.close()
    for answer in answers:
        assert answer is not None and answer.status == 200
        assert json.loads(answer.body) == {}
        assert answer.headers["content-type"].startswith("application/x-amz-json-1.0")
    assert error is not None and error.status == 400
    assert json.loads(error.body)["__type"].endswith("ResourceNotFoundException")


async def test_no_credentials_means_no_answer() -> None:
    """Not opened: the caller sends through the botocore client instead."""
    http = SignedHttp("dynamodb", REGION, get_session(), limit=1)
    assert await http.send("POST", "http://127.0.0.1:9/", b"{}") is None
