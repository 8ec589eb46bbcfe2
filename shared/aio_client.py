"""An aiobotocore client opened once (``async with``) and shared by every call, and the signed
fast path (:class:`SignedHttp`) both the store and the push client send their hot calls on.

Creating a botocore client costs milliseconds and a connection pool, so the store and the push
client each open one and keep it; this module holds that plumbing once.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from yarl import URL


class AioServiceClient:
    """Subclasses name their ``service``; ``client`` is the open aiobotocore client."""

    service: ClassVar[str]

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None,
        session: AioSession | None,
        config: AioConfig,
    ) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._session = session or get_session()
        self._config = config
        self._exit_stack: AsyncExitStack | None = None
        self._client: Any = None

    async def _opened(self, exit_stack: AsyncExitStack) -> None:
        """Open whatever else the subclass needs, registering its cleanup on ``exit_stack``."""

    async def __aenter__(self) -> Self:
        self._exit_stack = AsyncExitStack()
        self._client = await self._exit_stack.enter_async_context(
            self._session.create_client(
                self.service,
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                config=self._config,
            )
        )
        await self._opened(self._exit_stack)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
        self._exit_stack = None
        self._client = None

    @property
    def client(self) -> Any:
        if self._client is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not open: use it as 'async with {name}(...)'")
        return self._client


@dataclass(frozen=True)
class Answer:
    """What the signed fast path got back: the status and the raw body."""

    status: int
    body: bytes
    headers: dict[str, str]
    """Lower-cased names, as botocore's parsers and retry checkers read them."""


class SignedHttp:
    """A client call's hot path: botocore's own SigV4 signer on a keep-alive aiohttp session.

    A full botocore client call costs about 0.7 ms of CPU here (parameter validation, event
    hooks, endpoint rules, signing, parsing); signing the same bytes with the same signer and
    sending them with aiohttp costs a fraction of that. Callers build the exact request botocore
    would send and take only clear outcomes from this path; anything else (throttling, 5xx,
    an I/O error) goes through the botocore client, whose retry mode handles it.
    """

    def __init__(self, service: str, region: str, session: AioSession, limit: int) -> None:
        self._service = service
        self._region = region
        self._session = session
        self._limit = limit
        self._http: aiohttp.ClientSession | None = None
        self._credentials: Any = None

    async def open(self) -> None:
        self._credentials = await self._session.get_credentials()
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None

    async def send(
        self, method: str, url: str, body: bytes, headers: dict[str, str] | None = None
    ) -> Answer | None:
        """Sign and send; None when this path cannot tell (no credentials, I/O error).

        ``url`` must already be percent-encoded as botocore's serializer writes it: the
        signature covers the path exactly as sent.
        """
        if self._http is None or self._credentials is None:
            return None
        credentials = await self._credentials.get_frozen_credentials()
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(credentials, self._service, self._region).add_auth(request)
        try:
            async with self._http.request(
                method, URL(url, encoded=True), data=body, headers=dict(request.headers.items())
            ) as response:
                headers = {name.lower(): value for name, value in response.headers.items()}
                return Answer(response.status, await response.read(), headers)
        except (aiohttp.ClientError, TimeoutError):
            return None
