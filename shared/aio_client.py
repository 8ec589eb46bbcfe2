"""An aiobotocore client opened once (``async with``) and shared by every call, and the signed
fast path (:class:`SignedHttp`) the store sends its hot calls on (the push client has its own,
:mod:`shared.push_fast`, which never sends a request twice).

Creating a botocore client costs milliseconds and a connection pool, so the store and the push
client each open one and keep it; this module holds that plumbing once.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from shared.keepalive_http import HttpClientError, KeepAliveClient, origin_of
from shared.push_signer import derive_signing_key


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


class SigV4WithKeyCache(SigV4Auth):  # type: ignore[misc,unused-ignore]  # botocore is untyped
    """botocore's SigV4 signer, deriving the signing key once per secret and day.

    botocore derives it (four HMACs) for every request; a fan-out signs hundreds of requests
    with the same key. Everything else (canonical request, string to sign) is botocore's.
    """

    def __init__(self, credentials: Any, service: str, region: str, keys: dict[Any, bytes]):
        super().__init__(credentials, service, region)
        self._keys = keys
        self._region = region
        self._service = service

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        secret = str(self.credentials.secret_key)  # add_auth refuses missing credentials first
        day = request.context["timestamp"][0:8]
        key = self._keys.get((secret, day))
        if key is None:
            key = derive_signing_key(secret, day, self._region, self._service)
            self._keys.clear()  # one live key: the previous day's or secret's is done
            self._keys[(secret, day)] = key
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


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
    """A client call's hot path: botocore's own SigV4 signer on lean keep-alive connections.

    A full botocore client call costs about 0.7 ms of CPU here (parameter validation, event
    hooks, endpoint rules, signing, parsing); signing the same bytes with the same signer and
    sending them on :class:`shared.keepalive_http.KeepAliveClient` costs a fraction of that.
    Callers build the exact request botocore would send and take only clear outcomes from
    this path; anything else (throttling, 5xx, an I/O error) goes through the botocore client,
    whose retry mode handles it (and, like botocore, may send the request again: callers with
    non-idempotent requests that must not be repeated use :mod:`shared.push_fast` instead).
    """

    def __init__(self, service: str, region: str, session: AioSession, limit: int) -> None:
        self._service = service
        self._region = region
        self._session = session
        self._limit = limit
        self._clients: dict[str, tuple[KeepAliveClient, str]] = {}
        """Per origin (``scheme://host:port``): its connections and its ``Host`` header."""
        self._credentials: Any = None
        self._keys: dict[Any, bytes] = {}

    async def open(self) -> None:
        self._credentials = await self._session.get_credentials()

    async def close(self) -> None:
        for client, _ in self._clients.values():
            await client.close()
        self._clients.clear()
        self._credentials = None

    def _client(self, base: str) -> tuple[KeepAliveClient, str]:
        client = KeepAliveClient(origin_of(base), limit=self._limit, keep_headers=True)
        self._clients[base] = (client, host_header(base))
        return self._clients[base]

    async def send(
        self, method: str, url: str, body: bytes, headers: dict[str, str] | None = None
    ) -> Answer | None:
        """Sign and send; None when this path cannot tell (no credentials, I/O error).

        ``url`` must already be percent-encoded as botocore's serializer writes it: the
        signature covers the path exactly as sent.
        """
        if self._credentials is None:
            return None
        credentials = await self._credentials.get_frozen_credentials()
        split = url.find("/", url.find("//") + 2)
        base, target = (url[:split], url[split:]) if split >= 0 else (url, "/")
        client, host = self._clients.get(base) or self._client(base)
        request = AWSRequest(
            method=method, url=url, data=body, headers={"Host": host, **(headers or {})}
        )
        SigV4WithKeyCache(credentials, self._service, self._region, self._keys).add_auth(request)
        head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
        data = f"{method} {target} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
        try:
            answer = await client.request(data.encode() + body)
        except HttpClientError:
            return None
        return Answer(answer.status, answer.body, answer.headers)
