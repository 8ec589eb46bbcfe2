"""The service's two long-lived AWS clients: one store and one push client per process.

Both targets come from the configuration alone. Deriving either from a request (as an earlier
version did with ``apiId`` and ``tableName``) let a caller make the instance sign requests for
another host and grow a new client, never freed, for every distinct value it sent.
"""

from __future__ import annotations

from ec2_service.room_cache import RoomMembers
from ec2_service.settings import ServiceSettings
from shared.connection_store import ConnectionStore
from shared.connections_api import ConnectionsApi
from shared.names import execute_api_endpoint


def push_endpoint(settings: ServiceSettings) -> str:
    """The local override, or the stage's execute-api URL in the region's partition (never the
    custom domain, which does not serve ``@connections``)."""
    if settings.connections_endpoint:
        return settings.connections_endpoint
    return execute_api_endpoint(settings.api_id, settings.region, settings.stage)


class Backends:
    """Opened once at server start (:meth:`open`), closed at shutdown (:meth:`close`)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._store: ConnectionStore | None = None
        self._push: ConnectionsApi | None = None
        self._rooms: RoomMembers | None = None
        self.clients_opened = 0
        """How many AWS clients this process has created: 2 for its whole life."""

    async def open(self) -> None:
        settings = self.settings
        if self._store is None:
            store = ConnectionStore(
                settings.table_name,
                region=settings.region,
                endpoint_url=settings.dynamodb_endpoint,
                max_pool_connections=max(settings.fanout_concurrency, 10),
            )
            self._store = await store.__aenter__()
            self._rooms = RoomMembers(self._store.room_members)
            self.clients_opened += 1
        if self._push is None:
            push = ConnectionsApi(
                push_endpoint(settings),
                region=settings.region,
                concurrency=settings.fanout_concurrency,
            )
            self._push = await push.__aenter__()
            self.clients_opened += 1

    async def store(self) -> ConnectionStore:
        if self._store is None:
            await self.open()
        assert self._store is not None
        return self._store

    async def rooms(self) -> RoomMembers:
        """Room members, remembered briefly (``ec2_service.room_cache``)."""
        if self._rooms is None:
            await self.open()
        assert self._rooms is not None
        return self._rooms

    async def forget_connection(self, connection_id: str) -> None:
        """A push answered 410: delete the record and drop it from remembered rooms."""
        if self._rooms is not None:
            self._rooms.drop(connection_id)
        store = await self.store()
        await store.delete_connection(connection_id)

    async def push(self) -> ConnectionsApi:
        if self._push is None:
            await self.open()
        assert self._push is not None
        return self._push

    async def close(self) -> None:
        if self._store is not None:
            await self._store.__aexit__(None, None, None)
        if self._push is not None:
            await self._push.__aexit__(None, None, None)
        self._store = None
        self._push = None
        self._rooms = None
