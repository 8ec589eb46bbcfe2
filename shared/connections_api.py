"""Pushing to clients through API Gateway's ``@connections`` management API.

The endpoint is always the execute-api URL built from the API id, region and stage: it works
whether or not clients came in through a custom domain (the tutorial's pushes broke when it
added one and kept using ``domainName``). A local gateway is reached by overriding the endpoint.
Fan-out is bounded (``concurrency`` posts in flight), never one await after another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import percent_encode

from shared.aio_client import AioServiceClient, SignedHttp
from shared.connection_store import RETRIES

log = logging.getLogger("wsgate.push")

DEFAULT_CONCURRENCY = 64
GONE = "GoneException"

OnGone = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class FanOutResult:
    """What happened to one push to many connections."""

    delivered: int
    gone: list[str] = field(default_factory=list)
    """Connections API Gateway answered 410 for: closed, their records should go."""
    failed: list[str] = field(default_factory=list)
    """Connections whose push failed for another reason, after botocore's retries."""


def _is_gone(error: ClientError) -> bool:
    response = error.response
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return bool(response.get("Error", {}).get("Code") == GONE or status == 410)


class ConnectionsApi(AioServiceClient):
    """An open ``apigatewaymanagementapi`` client for one endpoint (``async with``)."""

    service = "apigatewaymanagementapi"

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str,
        concurrency: int = DEFAULT_CONCURRENCY,
        session: AioSession | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__(
            region=region,
            endpoint_url=endpoint_url,
            session=session,
            config=AioConfig(retries=RETRIES, max_pool_connections=max(concurrency, 10)),
        )
        self.endpoint_url = endpoint_url
        self.concurrency = concurrency
        self._base = endpoint_url.rstrip("/") + "/@connections/"
        self._fast = SignedHttp("execute-api", region, self._session, max(concurrency, 10))

    async def _opened(self, exit_stack: AsyncExitStack) -> None:
        await self._fast.open()
        exit_stack.push_async_callback(self._fast.close)

    async def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to one connection; False when it is gone (410).

        The signed fast path first (:class:`shared.aio_client.SignedHttp`): only 2xx
        (delivered) and 410 (gone) are taken from it; anything else is sent again through the
        botocore client, whose standard retry mode handles throttling and 5xx with backoff.
        """
        url = self._base + percent_encode(connection_id)  # as botocore's serializer writes it
        answer = await self._fast.send("POST", url, data)
        if answer is not None and 200 <= answer.status < 300:
            return True
        if answer is not None and answer.status == 410:
            return False
        try:
            await self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if _is_gone(error):
                return False
            raise
        return True

    async def get(self, connection_id: str) -> dict[str, Any] | None:
        """The connection's ``connectedAt``, ``identity`` and ``lastActiveAt``; None if gone."""
        try:
            response: dict[str, Any] = await self.client.get_connection(ConnectionId=connection_id)
        except ClientError as error:
            if _is_gone(error):
                return None
            raise
        response.pop("ResponseMetadata", None)
        return response

    async def delete(self, connection_id: str) -> bool:
        """Close a connection from the server side; False when it was already gone."""
        try:
            await self.client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if _is_gone(error):
                return False
            raise
        return True

    async def fan_out(
        self,
        connection_ids: Sequence[str],
        data: bytes,
        on_gone: OnGone | None = None,
    ) -> FanOutResult:
        """Push ``data`` to every id, ``concurrency`` at a time; call ``on_gone`` per 410."""
        semaphore = asyncio.Semaphore(self.concurrency)
        gone: list[str] = []
        failed: list[str] = []

        async def push(connection_id: str) -> bool:
            async with semaphore:
                try:
                    if await self.post(connection_id, data):
                        return True
                except (ClientError, BotoCoreError) as error:
                    log.warning("push to %s failed: %s", connection_id, error)
                    failed.append(connection_id)
                    return False
                gone.append(connection_id)
                if on_gone is not None:
                    await on_gone(connection_id)
                return False

        if not connection_ids:  # a room of one: the sender's copy went back as the reply
            return FanOutResult(delivered=0)
        if len(connection_ids) == 1:  # a room of two, a push to one sender: no task overhead
            results = [await push(connection_ids[0])]
        else:
            results = await asyncio.gather(*(push(cid) for cid in connection_ids))
        delivered = sum(results)
        log.debug("fan-out: delivered=%d gone=%d failed=%d", delivered, len(gone), len(failed))
        return FanOutResult(delivered=delivered, gone=gone, failed=failed)
