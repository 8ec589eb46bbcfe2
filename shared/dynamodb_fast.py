"""DynamoDB's JSON protocol on the signed fast path, answering as the botocore client would.

Every chat message costs the service a GetItem and a Query. Through the aiobotocore client
each one costs about 1.5 ms of CPU here (parameter validation, event hooks, endpoint rules,
paginator, parsing), most of a message's cost. The low-level DynamoDB API is JSON in, JSON
out, with the client's parameters already in wire form (``{"S": ...}`` attribute values),
so the same bytes can be signed with botocore's own ``SigV4Auth`` and sent on a keep-alive
aiohttp session (:class:`shared.aio_client.SignedHttp`).

What stays botocore's, so nothing a caller sees changes:

- errors are parsed by botocore's JSON parser and raised as the client's own modeled
  exception class (``ConditionalCheckFailedException`` is still a ``ClientError`` with the
  same ``Error.Code``);
- whether an answer is worth retrying is decided by botocore's standard retry conditions
  (throttling, transient errors, 5xx, a bad CRC32); such a call is sent again through the
  client, whose retry mode applies its backoff and attempt limit (the fast attempt comes on
  top of those);
- anything this path cannot send as JSON (binary attributes) or an I/O error goes through
  the client as well.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from aiobotocore.session import AioSession
from botocore import xform_name
from botocore.parsers import create_parser
from botocore.retries.standard import RetryContext, StandardRetryConditions

from shared.aio_client import Answer, SignedHttp


@dataclass(frozen=True)
class _HttpView:
    """The parts of an HTTP response botocore's retry checkers read."""

    status_code: int
    headers: dict[str, str]
    content: bytes


def _crc_ok(answer: Answer) -> bool:
    expected = answer.headers.get("x-amz-crc32")
    return expected is None or int(expected) == zlib.crc32(answer.body) & 0xFFFFFFFF


class FastDynamoDB:
    """Calls by operation name (``GetItem``), with the low-level client's parameters."""

    def __init__(self, client: Any, region: str, session: AioSession, limit: int) -> None:
        self._client = client
        model = client.meta.service_model
        self._model = model
        self._target = model.metadata["targetPrefix"] + "."
        self._content_type = "application/x-amz-json-" + model.metadata["jsonVersion"]
        self._url = client.meta.endpoint_url.rstrip("/") + "/"
        self._http = SignedHttp(model.signing_name, region, session, limit)
        self._parser = create_parser(model.metadata["protocol"])
        max_attempts = client.meta.config.retries.get("total_max_attempts", 3)
        self._retryable = StandardRetryConditions(max_attempts=max_attempts).is_retryable

    async def open(self) -> None:
        await self._http.open()

    async def close(self) -> None:
        await self._http.close()

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The operation's parsed answer, or the client's exception for it."""
        try:
            body = json.dumps(params, separators=(",", ":")).encode()
        except TypeError:  # bytes (binary attributes): the client base64-encodes them
            return await self._by_client(operation, params)
        headers = {"X-Amz-Target": self._target + operation, "Content-Type": self._content_type}
        answer = await self._http.send("POST", self._url, body, headers)
        if answer is None:
            return await self._by_client(operation, params)
        if answer.status == 200 and _crc_ok(answer):
            parsed: dict[str, Any] = json.loads(answer.body) if answer.body else {}
            return parsed
        self._raise_unless_retryable(operation, answer)
        return await self._by_client(operation, params)

    def _raise_unless_retryable(self, operation: str, answer: Answer) -> None:
        operation_model = self._model.operation_model(operation)
        response = {"status_code": answer.status, "headers": answer.headers, "body": answer.body}
        parsed = self._parser.parse(response, operation_model.output_shape)
        parsed.setdefault("ResponseMetadata", {}).update(
            HTTPStatusCode=answer.status, HTTPHeaders=answer.headers
        )
        context = RetryContext(
            attempt_number=1,
            operation_model=operation_model,
            parsed_response=parsed,
            http_response=_HttpView(answer.status, answer.headers, answer.body),
        )
        if answer.status == 200 or self._retryable(context):
            return
        code = parsed.get("Error", {}).get("Code", str(answer.status))
        raise self._client.exceptions.from_code(code)(parsed, operation)

    async def _by_client(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self._client, xform_name(operation))
        result: dict[str, Any] = await method(**params)
        return result
