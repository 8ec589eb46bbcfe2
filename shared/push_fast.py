"""The push fast path: ``PostToConnection`` signed from precomputed parts on a lean client.

A full botocore client call costs about 0.7 ms of CPU here, and botocore's signer plus an
aiohttp request about 0.26 ms: both over the 0.1 ms a room member's push may cost the fleet.
Here a push is one SHA-256 and one HMAC (:mod:`shared.push_signer`), a string join, one
``write`` and an ``httptools`` parse (:mod:`shared.keepalive_http`). The caller
(:class:`shared.connections_api.ConnectionsApi`) takes only 2xx and 410 from this path and
sends anything else through the botocore client.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiobotocore.session import AioSession

from shared.aio_client import host_header
from shared.keepalive_http import KeepAliveClient, MaybeSent, NotSent, origin_of
from shared.push_signer import FrozenCredentials, Payload, PushSigner, amz_date, encode_id


class PushOutcomeUnknown(Exception):
    """A push went out and no answer came: it may have been delivered, so it is not sent
    again (a second POST would be a second frame). Reported as failed for that member."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect and to wait for an answer, for both push paths."""

    connect: float = 5.0
    read: float = 10.0


DEFAULT_TIMEOUTS = Timeouts()


class FastPush:
    """Signs and sends ``POST {stage}/@connections/{id}``; answers the status, or None when
    nothing was sent (the caller may then use the botocore client)."""

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        limit: int,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        base_path = urlsplit(endpoint_url).path.rstrip("/") + "/@connections/"
        self._signer = PushSigner(host_header(endpoint_url), base_path, region)
        self._http = KeepAliveClient(
            origin_of(endpoint_url, tls),
            limit=limit,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
        )
        self._credentials: Any = None
        self._date_second = -1
        self._date = ""

    async def open(self, session: AioSession) -> None:
        self._credentials = await session.get_credentials()

    async def close(self) -> None:
        await self._http.close()

    @property
    def connections_opened(self) -> int:
        return self._http.connections_opened

    async def credentials(self) -> FrozenCredentials | None:
        """Frozen once per fan-out: botocore refreshes role credentials minutes before they
        expire, far longer than a fan-out takes."""
        if self._credentials is None:
            return None
        frozen: FrozenCredentials = await self._credentials.get_frozen_credentials()
        return frozen

    def _amz_date(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._date_second:
            self._date_second, self._date = second, amz_date(now)
        return self._date

    def request_bytes(
        self, connection_id: str, payload: Payload, credentials: FrozenCredentials
    ) -> bytes:
        """The whole request, head and body, as one buffer for one write."""
        encoded = encode_id(connection_id)
        headers = self._signer.headers(encoded, payload, credentials, self._amz_date())
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        return (
            f"POST {self._signer.base_path}{encoded} HTTP/1.1\r\n{head}"
            f"Content-Length: {len(payload.data)}\r\n\r\n"
        ).encode() + payload.data

    async def post(
        self, connection_id: str, payload: Payload, credentials: FrozenCredentials | None
    ) -> int | None:
        if credentials is None:
            return None
        try:
            answer = await self._http.request(
                self.request_bytes(connection_id, payload, credentials)
            )
        except NotSent:
            return None
        except MaybeSent as error:
            raise PushOutcomeUnknown(f"push to {connection_id}: {error}") from error
        return answer.status
