"""The WebSocket routes served by Lambda (``backend="lambda"`` in ``shared/routes.py``).

Each function is registered on a Chalice blueprint under the route's ``function_name``, so
``chalice deploy`` creates ``wsgate-<stage>-<name>`` and ``app.py`` registers all of them with
one ``register_blueprint``. :func:`lambda_route` does what the service's request parsing does
for fleet routes: it turns API Gateway's proxy event into ``WebSocketEvent[Model]`` with the
route's own client model, and turns the function's answer into a proxy response.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint
from pydantic import BaseModel, ValidationError

from shared.client_messages import ListRooms
from shared.connections_table import ROOM_ATTRIBUTE
from shared.names import DEFAULT_STACK_NAME, DEFAULT_STAGE, ENV_STACK_NAME, ENV_STAGE, StackNames
from shared.routes import ROUTES, Route
from shared.websocket_event import WebSocketEvent, proxy_response

blueprint = Blueprint(__name__)

Answer = dict[str, Any] | None
"""A JSON object sent to the caller on a two-way route; None sends nothing."""
RouteFunction = Callable[[Any, Any], Answer]
ProxyFunction = Callable[[dict[str, Any], Any], dict[str, Any]]


class NotALambdaRouteError(LookupError):
    """A function was declared for a key the route table does not serve from Lambda."""


def _lambda_route(key: str, routes: tuple[Route, ...]) -> Route:
    for route in routes:
        if route.key == key and route.backend == "lambda":
            return route
    raise NotALambdaRouteError(
        f"no route {key!r} with backend='lambda' in shared/routes.py: add the table entry first"
    )


def proxy_handler(route: Route, function: RouteFunction) -> ProxyFunction:
    """``function(WebSocketEvent[route.client_model], context)`` as a Lambda proxy handler.

    The gateway has validated the body against the same model, so a body that does not parse
    here is a client sending around a stale deployment: it gets a 400 with pydantic's reasons
    (and nothing crashes)."""
    model: type[BaseModel] = route.client_model or BaseModel
    event_type = WebSocketEvent[model]  # type: ignore[valid-type]

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            typed = event_type.model_validate(event)
        except ValidationError as error:
            problems = [
                {"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]}
                for e in error.errors(include_url=False, include_input=False)
            ]
            return proxy_response(400, json.dumps({"type": "error", "problems": problems}))
        answer = function(typed, context)
        return proxy_response(200, None if answer is None else json.dumps(answer))

    handle.__name__ = route.function_name
    handle.__qualname__ = route.function_name
    handle.__doc__ = function.__doc__
    return handle


def lambda_route(
    key: str, routes: tuple[Route, ...] = ROUTES
) -> Callable[[RouteFunction], ProxyFunction]:
    """Register ``function`` as the Chalice function serving route ``key``."""
    route = _lambda_route(key, routes)

    def register(function: RouteFunction) -> ProxyFunction:
        handler = proxy_handler(route, function)
        blueprint.lambda_function(name=route.function_name)(handler)
        globals()[route.function_name] = handler  # Chalice's handler string: module.<name>
        return handler

    return register


_table_lock = threading.Lock()
_table_name: str | None = None


def connections_table() -> str:
    """The stack's table name from SSM (as the ops Lambda reads it), once per container."""
    global _table_name
    with _table_lock:
        if _table_name is None:
            stage = os.environ.get(ENV_STAGE, DEFAULT_STAGE)
            stack = StackNames(os.environ.get(ENV_STACK_NAME, DEFAULT_STACK_NAME), stage)
            import boto3  # on first call: the authorizer shares this module's import

            parameter = boto3.client("ssm").get_parameter(Name=stack.table_name_parameter)
            _table_name = str(parameter["Parameter"]["Value"])
        return _table_name


def room_counts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rooms by name with their member counts, largest first (ties by name)."""
    counts = Counter(item[ROOM_ATTRIBUTE]["S"] for item in items if ROOM_ATTRIBUTE in item)
    ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"room": room, "members": members} for room, members in ordered]


def scan_rooms(table: str) -> list[dict[str, Any]]:
    """Every room attribute: the room index is sparse, so it holds only members of a room."""
    import boto3

    paginator = boto3.client("dynamodb").get_paginator("scan")
    items: list[dict[str, Any]] = []
    for page in paginator.paginate(
        TableName=table,
        IndexName=StackNames().room_index,
        ProjectionExpression="#room",
        ExpressionAttributeNames={"#room": ROOM_ATTRIBUTE},
    ):
        items.extend(page.get("Items", []))
    return items


@lambda_route("listrooms")
def listrooms(event: WebSocketEvent[ListRooms], context: Any) -> Answer:
    """Bursty and read-only: cheaper on Lambda than on the fleet's hot path."""
    return {"type": "rooms", "rooms": room_counts(scan_rooms(connections_table()))}
