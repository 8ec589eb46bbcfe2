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
from urllib.parse import urlsplit

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


class SigV4WithKeyCache(SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's SigV4 signer, deriving the signing key once per secret and day.

    botocore derives it (four HMACs) for every request; a fan-out signs hundreds of requests
    with the same key. Everything else (canonical request, string to sign) is botocore's.
    """

    def __init__(self, credentials: Any, service: str, region: str, keys: dict[Any, bytes]):
        super().__init__(credentials, service, region)
        self._keys = keys

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        secret = self.credentials.secret_key
        day = request.context["timestamp"][0:8]
        key = self._keys.get((secret, day))
        if key is None:
            k_date = self._sign(f"AWS4{secret}".encode(), day)
            k_region = self._sign(k_date, self._region_name)
            k_service = self._sign(k_region, self._service_name)
            key = self._sign(k_service, "aws4_request")
            self._keys.clear()  # one live key: the previous day's or secret's is done
            self._keys[(secret, day)] = key
        signature: str = self._sign(key, string_to_sign, hex=True)
        return signature


def host_header(url: str) -> str:
    """The ``Host`` value botocore signs for ``url`` (no default port), computed once per
    endpoint: with it present, the signer does not parse the URL again for every request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


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
        self._keys: dict[Any, bytes] = {}
        self._hosts: dict[str, str] = {}

    async def open(self) -> None:
        self._credentials = await self._session.get_credentials()
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            cookie_jar=aiohttp.DummyCookieJar(),  # AWS APIs set no cookies: skip the jar's work
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
        base = url[: url.find("/", url.find("//") + 2) + 1] or url
        host = self._hosts.get(base) or self._hosts.setdefault(base, host_header(url))
        sent = {"Host": host, **(headers or {})}
        request = AWSRequest(method=method, url=url, data=body, headers=sent)
        SigV4WithKeyCache(credentials, self._service, self._region, self._keys).add_auth(request)
        try:
            async with self._http.request(
                method, URL(url, encoded=True), data=body, headers=dict(request.headers.items())
            ) as response:
                headers = {name.lower(): value for name, value in response.headers.items()}
                return Answer(response.status, await response.read(), headers)
        except (aiohttp.ClientError, TimeoutError):
            return None
