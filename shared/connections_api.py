"""Pushing to clients through API Gateway's ``@connections`` management API.

The endpoint is always the execute-api URL built from the API id, region and stage: it works
whether or not clients came in through a custom domain (the tutorial's pushes broke when it
added one and kept using ``domainName``). A local gateway is reached by overriding the endpoint.
Fan-out is bounded (``concurrency`` posts in flight), never one await after another.

Exactly-once where it can be known: a push whose request went out with no answer back
(timeout, connection lost) may have been delivered, so it is reported failed and never sent
again; one that cannot have been sent is sent again (``shared.keepalive_http``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from shared.aio_client import AioServiceClient
from shared.connection_store import RETRIES
from shared.push_fast import DEFAULT_TIMEOUTS, FastPush, PushOutcomeUnknown, Timeouts
from shared.push_signer import FrozenCredentials, Payload

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
    """Connections whose push failed for another reason, after botocore's retries, or whose
    push went out with no answer (maybe delivered, never sent twice)."""


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
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__(
            region=region,
            endpoint_url=endpoint_url,
            session=session,
            config=AioConfig(
                retries=RETRIES,
                max_pool_connections=max(concurrency, 10),
                connect_timeout=timeouts.connect,
                read_timeout=timeouts.read,
            ),
        )
        self.endpoint_url = endpoint_url
        self.concurrency = concurrency
        self._fast = FastPush(endpoint_url, region, concurrency, timeouts, tls)

    async def _opened(self, exit_stack: AsyncExitStack) -> None:
        await self._fast.open(self._session)
        exit_stack.push_async_callback(self._fast.close)

    @property
    def connections_opened(self) -> int:
        """TCP connections the fast path has opened (keep-alive reuse keeps this low)."""
        return self._fast.connections_opened

    async def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to one connection; False when it is gone (410).

        Raises ``ClientError``/``BotoCoreError`` from the botocore path, and
        :class:`PushOutcomeUnknown` when the request went out and no answer came.
        """
        return await self._post(connection_id, Payload.of(data), await self._fast.credentials())

    async def _post(
        self, connection_id: str, payload: Payload, credentials: FrozenCredentials | None
    ) -> bool:
        """The fast path first (:class:`shared.push_fast.FastPush`): only 2xx (delivered) and
        410 (gone) are taken from it; anything else is sent again through the botocore client,
        whose standard retry mode handles throttling and 5xx with backoff. A request that may
        have been acted on is never sent again (``shared.keepalive_http``'s retry rule)."""
        status = await self._fast.post(connection_id, payload, credentials)
        if status is not None and 200 <= status < 300:
            return True
        if status == 410:
            return False
        try:
            await self.client.post_to_connection(ConnectionId=connection_id, Data=payload.data)
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
        """Push ``data`` to every id, ``concurrency`` at a time; call ``on_gone`` per 410.

        A fixed set of worker coroutines (at most ``concurrency``) takes ids from one shared
        iterator, each id exactly once: no task per member, and the payload's hash and the
        credentials are taken once for all of them.
        """
        if not connection_ids:  # a room of one: the sender's copy went back as the reply
            return FanOutResult(delivered=0)
        payload = Payload.of(data)
        credentials = await self._fast.credentials()
        pending = iter(connection_ids)
        delivered: list[str] = []
        gone: list[str] = []
        failed: list[str] = []

        async def worker() -> None:
            for connection_id in pending:
                try:
                    if await self._post(connection_id, payload, credentials):
                        delivered.append(connection_id)
                        continue
                except (ClientError, BotoCoreError, PushOutcomeUnknown) as error:
                    log.warning("push to %s failed: %s", connection_id, error)
                    failed.append(connection_id)
                    continue
                gone.append(connection_id)
                if on_gone is not None:
                    await on_gone(connection_id)

        workers = min(self.concurrency, len(connection_ids))
        if workers == 1:  # a room of two, a push to one sender: no task overhead
            await worker()
        else:
            await asyncio.gather(*(worker() for _ in range(workers)))
        log.debug("fan-out: delivered=%d gone=%d failed=%d", len(delivered), len(gone), len(failed))
        return FanOutResult(delivered=len(delivered), gone=gone, failed=failed)
