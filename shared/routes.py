"""The route table: the one place a WebSocket route exists.

Each :class:`Route` names the route key API Gateway selects, the HTTP method and path the
integration calls on the service, the integration model (hence the request template) and the
client model (hence the gateway's request-validation model). ``infra`` turns the table into
Route / Integration / Model resources, the service registers one handler per entry, the local
gateway loads what infra synthesizes, and ``wsgate schemas`` exports the client models.
Adding a route means one client model, one entry here and one handler: in the service for the
default ``backend="service"``, or a Chalice function for ``backend="lambda"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from pydantic import BaseModel

from shared.client_messages import ClientMessage, JoinRoom, ListRooms, SendMessage
from shared.integration_models import (
    ConnectRequest,
    DefaultRequest,
    DisconnectRequest,
    IntegrationRequest,
    MessageRequest,
)
from shared.request_templates import request_template

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Backend = Literal["service", "lambda"]
FUNCTION_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Lambda's rule for function names (Chalice adds ``<app>-<stage>-`` in front)."""

ROUTE_SELECTION_EXPRESSION = "$request.body.action"
"""How API Gateway picks a route from a message: the ``action`` field of the JSON body."""

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
PREDEFINED_ROUTE_KEYS = frozenset({CONNECT, DISCONNECT, DEFAULT})


@dataclass(frozen=True)
class Route:
    """One WebSocket route and the HTTP integration behind it."""

    key: str
    method: HttpMethod
    path: str
    integration_model: type[IntegrationRequest]
    client_model: type[ClientMessage] | None = None
    authorizer: bool = False
    """Whether the Lambda REQUEST authorizer runs: API Gateway allows it on ``$connect`` only."""
    api_key_required: bool = False
    """Whether an API key is required: only meaningful on ``$connect``, where keys are presented."""
    description: str = ""
    reply: bool = False
    """Two-way: the integration's answer body is sent to the sender as the route response, so
    a frame meant only for the sender (help, "join a room first", a refusal) needs no
    ``@connections`` call. An empty answer (204) sends nothing."""
    backend: Backend = "service"
    """``service``: an HTTP integration to the fleet (VPC link); ``lambda``: an ``AWS_PROXY``
    integration to the Chalice function :attr:`function_name`, which receives API Gateway's
    WebSocket proxy event (the method, path and integration model are then unused)."""
    function: str = ""
    """The Chalice function's name for a ``lambda`` route; the route key when empty."""
    fields: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        if self.key.startswith("$") and self.key not in PREDEFINED_ROUTE_KEYS:
            raise ValueError(f"route key {self.key!r}: custom route keys may not start with '$'")
        if (self.authorizer or self.api_key_required) and self.key != CONNECT:
            raise ValueError(f"route {self.key!r}: authorizers and API keys apply to $connect only")
        if self.reply and self.key in (CONNECT, DISCONNECT):
            raise ValueError(
                f"route {self.key!r}: only message routes can reply (a $connect answer only "
                "accepts or refuses the handshake; after $disconnect the socket is closed)"
            )
        if self.backend == "lambda" and not FUNCTION_NAME_PATTERN.match(self.function_name):
            raise ValueError(
                f"route {self.key!r}: Lambda function name {self.function_name!r} must be 1-64 "
                "letters, digits, '-' or '_' (set function=...)"
            )
        if not self.path.startswith("/"):
            raise ValueError(f"route {self.key!r}: integration path must start with '/'")
        if self.client_model is not None:
            names = tuple(n for n in self.client_model.model_fields if n != "action")
            object.__setattr__(self, "fields", names)

    @property
    def is_predefined(self) -> bool:
        """``$connect``, ``$disconnect`` and ``$default`` are chosen by event, not by the body."""
        return self.key in PREDEFINED_ROUTE_KEYS

    @property
    def function_name(self) -> str:
        """The Chalice function (``@lambda_function(name=...)``) a ``lambda`` route invokes."""
        return self.function or self.key

    @property
    def model_name(self) -> str | None:
        """The API Gateway model name (and schema file name) for the client model."""
        return self.client_model.__name__ if self.client_model is not None else None

    @cached_property
    def request_template(self) -> str:
        """The VTL request template, derived from :attr:`integration_model`."""
        return request_template(self.integration_model)


ROUTES: tuple[Route, ...] = (
    Route(
        key=CONNECT,
        method="POST",
        path="/connect",
        integration_model=ConnectRequest,
        authorizer=True,
        api_key_required=True,
        description="Record the new connection and who opened it.",
    ),
    Route(
        key=DISCONNECT,
        method="DELETE",
        path="/disconnect",
        integration_model=DisconnectRequest,
        description="Forget the connection.",
    ),
    Route(
        key=DEFAULT,
        method="POST",
        path="/default",
        integration_model=DefaultRequest,
        description="Anything that matches no action: reply with the list of valid actions.",
        reply=True,
    ),
    Route(
        key="joinroom",
        method="POST",
        path="/joinroom",
        integration_model=MessageRequest[JoinRoom],
        client_model=JoinRoom,
        description="Join a chat room (leaving the previous one).",
        reply=True,
    ),
    Route(
        key="sendmessage",
        method="POST",
        path="/sendmessage",
        integration_model=MessageRequest[SendMessage],
        client_model=SendMessage,
        description="Send a message to everyone in your room.",
        reply=True,
    ),
    Route(
        key="listrooms",
        method="POST",
        path="/listrooms",
        integration_model=MessageRequest[ListRooms],
        client_model=ListRooms,
        description="List the rooms and how many are in each (a Chalice function).",
        reply=True,
        backend="lambda",
    ),
)


def route_table(routes: tuple[Route, ...] = ROUTES) -> dict[str, Route]:
    """Routes by key, checking that keys and integration paths are unique."""
    by_key: dict[str, Route] = {}
    paths: set[tuple[str, str]] = set()
    for route in routes:
        if route.key in by_key:
            raise ValueError(f"route key {route.key!r} is declared twice")
        if (route.method, route.path) in paths:
            raise ValueError(f"integration {route.method} {route.path} is declared twice")
        by_key[route.key] = route
        paths.add((route.method, route.path))
    return by_key


def service_routes(routes: tuple[Route, ...] = ROUTES) -> tuple[Route, ...]:
    """The routes the EC2 fleet serves: the service registers a handler for each, no other."""
    return tuple(route for route in routes if route.backend == "service")


def lambda_routes(routes: tuple[Route, ...] = ROUTES) -> tuple[Route, ...]:
    """The routes a Chalice function serves (``AWS_PROXY`` integrations)."""
    return tuple(route for route in routes if route.backend == "lambda")


def client_models(routes: tuple[Route, ...] = ROUTES) -> dict[str, type[BaseModel]]:
    """Every client model by its gateway model name, in route-table order."""
    return {r.model_name: r.client_model for r in routes if r.client_model and r.model_name}


def get_route(key: str, routes: tuple[Route, ...] = ROUTES) -> Route:
    """The route with ``key``; a :class:`KeyError` names the valid keys."""
    table = route_table(routes)
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"no route {key!r}; routes are {sorted(table)}") from None
