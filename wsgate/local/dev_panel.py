"""The server side of the browser console's developer panel (local stack only).

It joins two views of the same connections: the gateway's (who is connected, since when, last
activity, the event stream and usage counters, from its local-only ``/_wsgate`` admin surface)
and the service's (which room each connection is in, from the connections table). Pushing to and
closing a connection go through ``@connections`` exactly as the service does it: a boto3
``apigatewaymanagementapi`` client, so every call is SigV4-signed by botocore (service
``execute-api``) with the local credentials, whether or not the gateway verifies signatures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import boto3
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.connection_store import ConnectionRecord
from shared.connections_table import PARTITION_KEY, ROOM_ATTRIBUTE, USER_ATTRIBUTE
from shared.names import ROOM_INDEX
from wsgate.local.aws_resources import LOCAL_CREDENTIALS, AwsTarget

if TYPE_CHECKING:
    from wsgate.local.stack_options import LocalStackInfo

ADMIN_PATH = "/_wsgate"
T = TypeVar("T")


class PanelError(Exception):
    """A panel request that failed, with the status and message the page shows as they are."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PanelTarget:
    """Where the panel's data lives: the gateway (admin + ``@connections``) and the table."""

    gateway_url: str
    """``http://127.0.0.1:PORT``: the admin surface is at its root, not under the stage."""
    connections_url: str
    """``http://127.0.0.1:PORT/STAGE``: the ``@connections`` endpoint_url boto3 wants."""
    table: AwsTarget
    table_name: str


def _error_response(error: PanelError) -> web.Response:
    return web.json_response({"message": error.message}, status=error.status)


def client_error(error: ClientError) -> PanelError:
    """boto3's error as the page should see it: the gateway's own status and message."""
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502))
    details = error.response.get("Error", {})
    message = details.get("Message") or details.get("Code") or str(error)
    return PanelError(status, message)


def merge_rooms(
    connections: list[dict[str, Any]], records: list[ConnectionRecord]
) -> list[dict[str, Any]]:
    """The gateway's connections, each with its room from the table (None: not in a room yet)."""
    rooms = {record.connection_id: record.room for record in records}
    return [
        {**connection, "room": rooms.get(connection["connectionId"])} for connection in connections
    ]


class DevPanel:
    """The ``/dev/*`` routes of the console; construct once per console app."""

    def __init__(self, target: PanelTarget) -> None:
        self.target = target
        self._session: aiohttp.ClientSession | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._dynamodb = target.table.client("dynamodb")
        self._management = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=target.connections_url,
            region_name=target.table.region,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=LOCAL_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def end_streams(self, app: web.Application) -> None:
        """Relayed event streams never end by themselves: end them, or shutdown waits."""
        for task in list(self._streams):
            task.cancel()

    async def close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _boto(self, call: Callable[..., T], **kwargs: Any) -> T:
        """A blocking boto3 call off the event loop, its failure as a ``PanelError``."""
        try:
            return await asyncio.to_thread(call, **kwargs)
        except ClientError as error:
            raise client_error(error) from None
        except BotoCoreError as error:
            raise PanelError(
                502, f"could not reach {self.target.connections_url}: {error}"
            ) from None

    async def _admin_json(self, path: str) -> dict[str, Any]:
        url = f"{self.target.gateway_url}{ADMIN_PATH}/{path}"
        try:
            async with self.session().get(url, timeout=aiohttp.ClientTimeout(total=10)) as reply:
                if reply.status != 200:
                    raise PanelError(502, f"{url} answered {reply.status}: is it run with --admin?")
                result: dict[str, Any] = await reply.json()
                return result
        except aiohttp.ClientError as error:
            raise PanelError(502, f"the local gateway at {url} is not answering: {error}") from None

    async def records(self) -> list[ConnectionRecord]:
        """Every item of the connections table (a scan: fine for a local table)."""
        paginator = self._dynamodb.get_paginator("scan")

        def scan() -> list[ConnectionRecord]:
            pages = paginator.paginate(TableName=self.target.table_name)
            return [ConnectionRecord.from_item(i) for page in pages for i in page.get("Items", [])]

        return await self._boto(scan)

    async def room_members(self, room: str) -> list[dict[str, str]]:
        """Who is in ``room``, through the room index the service fans out with."""
        paginator = self._dynamodb.get_paginator("query")

        def query() -> list[dict[str, str]]:
            pages = paginator.paginate(
                TableName=self.target.table_name,
                IndexName=ROOM_INDEX,
                KeyConditionExpression="#room = :room",
                ExpressionAttributeNames={"#room": ROOM_ATTRIBUTE},
                ExpressionAttributeValues={":room": {"S": room}},
            )
            return [
                {
                    "connectionId": item[PARTITION_KEY]["S"],
                    "user": item.get(USER_ATTRIBUTE, {}).get("S", ""),
                }
                for page in pages
                for item in page.get("Items", [])
            ]

        return await self._boto(query)

    # -- handlers ---------------------------------------------------------------------------

    async def connections(self, request: web.Request) -> web.Response:
        gateway, records = await asyncio.gather(self._admin_json("connections"), self.records())
        return web.json_response(
            {"connections": merge_rooms(gateway["connections"], records), "now": gateway["now"]}
        )

    async def room(self, request: web.Request) -> web.Response:
        room = request.match_info["room"]
        return web.json_response({"room": room, "members": await self.room_members(room)})

    async def usage(self, request: web.Request) -> web.Response:
        return web.json_response(await self._admin_json("usage"))

    async def push(self, request: web.Request) -> web.Response:
        data = await request.read()
        if not data:
            raise PanelError(400, "nothing to push: the request body is the frame to send")
        connection_id = request.match_info["connection_id"]
        await self._boto(self._management.post_to_connection, ConnectionId=connection_id, Data=data)
        return web.json_response({"message": f"pushed {len(data)} bytes to {connection_id}"})

    async def kick(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        await self._boto(self._management.delete_connection, ConnectionId=connection_id)
        return web.json_response({"message": f"closed {connection_id}"})

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Relay the gateway's event stream (same origin for the page's EventSource)."""
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            return await self._relay(request)
        finally:
            self._streams.discard(task)

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        url = f"{self.target.gateway_url}{ADMIN_PATH}/events"
        headers = {}
        if "Last-Event-ID" in request.headers:
            headers["Last-Event-ID"] = request.headers["Last-Event-ID"]
        try:
            upstream = await self.session().get(url, headers=headers)
        except aiohttp.ClientError as error:
            raise PanelError(502, f"the local gateway at {url} is not answering: {error}") from None
        async with upstream:
            if upstream.status != 200:
                raise PanelError(502, f"{url} answered {upstream.status}: is it run with --admin?")
            response = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
            )
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionResetError, aiohttp.ClientError):
                pass
        return response

    @web.middleware
    async def errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Every ``PanelError`` becomes ``{"message": ...}`` with its status, never a traceback."""
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except PanelError as error:
            return _error_response(error)

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self.errors)
        app.on_shutdown.append(self.end_streams)
        app.on_cleanup.append(self.close)
        app.router.add_get("/dev/connections", self.connections)
        app.router.add_post("/dev/connections/{connection_id}", self.push)
        app.router.add_delete("/dev/connections/{connection_id}", self.kick)
        app.router.add_get("/dev/rooms/{room}", self.room)
        app.router.add_get("/dev/usage", self.usage)
        app.router.add_get("/dev/events", self.events)


def panel_for(info: LocalStackInfo) -> DevPanel:
    """The panel of a started ``wsgate local``."""
    connections_url = info.connections_url
    return DevPanel(
        PanelTarget(
            gateway_url=connections_url.rsplit("/", 1)[0],
            connections_url=connections_url,
            table=AwsTarget(info.dynamodb_endpoint, info.region),
            table_name=info.table_name,
        )
    )
