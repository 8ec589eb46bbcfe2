"""The service's long-lived AWS clients: one store per table, one push client per endpoint.

Creating a botocore client costs milliseconds and a connection pool; doing it per request
would dominate the message path. Clients are opened on first use and closed at shutdown.
"""

from __future__ import annotations

from ec2_service.settings import ServiceSettings
from shared.connection_store import ConnectionStore
from shared.connections_api import ConnectionsApi
from shared.integration_models import IntegrationRequest
from shared.names import execute_api_endpoint


class Backends:
    """Lazily opened, cached :class:`ConnectionStore` and :class:`ConnectionsApi` clients."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._stores: dict[str, ConnectionStore] = {}
        self._apis: dict[str, ConnectionsApi] = {}

    async def store(self, table_name: str | None = None) -> ConnectionStore:
        name = table_name or self.settings.table_name
        store = self._stores.get(name)
        if store is None:
            store = ConnectionStore(
                name,
                region=self.settings.region,
                endpoint_url=self.settings.dynamodb_endpoint,
                max_pool_connections=max(self.settings.fanout_concurrency, 10),
            )
            await store.__aenter__()
            self._stores[name] = store
        return store

    def push_endpoint(self, request: IntegrationRequest) -> str:
        """The local override, or the execute-api URL (never the custom domain name)."""
        if self.settings.connections_endpoint:
            return self.settings.connections_endpoint
        return execute_api_endpoint(request.apiId, request.region, request.stage)

    async def push(self, request: IntegrationRequest) -> ConnectionsApi:
        endpoint = self.push_endpoint(request)
        api = self._apis.get(endpoint)
        if api is None:
            api = ConnectionsApi(
                endpoint,
                region=request.region or self.settings.region,
                concurrency=self.settings.fanout_concurrency,
            )
            await api.__aenter__()
            self._apis[endpoint] = api
        return api

    async def close(self) -> None:
        for store in self._stores.values():
            await store.__aexit__(None, None, None)
        for api in self._apis.values():
            await api.__aexit__(None, None, None)
        self._stores.clear()
        self._apis.clear()
