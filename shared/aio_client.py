"""An aiobotocore client opened once (``async with``) and shared by every call.

Creating a botocore client costs milliseconds and a connection pool, so the store and the push
client each open one and keep it; this base holds that plumbing once.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, ClassVar, Self

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session


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
