"""The Sanic application: its HTTP routes are generated from ``shared.routes``.

Each table entry becomes ``<method> <path>``; the body is parsed with the route's integration
model, so the service and the gateway's request template agree by construction. Only API
Gateway may call the routes (``ec2_service.caller_auth``). Bad input is a 400 naming each field
error; nothing a caller sends produces a 500 or a stack trace; and every request is logged with
the status actually sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import ValidationError
from sanic import HTTPResponse, Request, Sanic
from sanic import json as json_response
from sanic.exceptions import SanicException
from sanic.response import BaseHTTPResponse

from ec2_service.backends import Backends
from ec2_service.caller_auth import CallerSecret, secrets_manager_secret, static_secret
from ec2_service.handlers import (
    HANDLERS,
    HandlerError,
    Outcome,
    check_handlers,
    push_to_sender,
)
from ec2_service.input_checks import (
    MAX_BODY_BYTES,
    BadInput,
    FieldError,
    check_content_type,
    connection_id_of,
    envelope_errors,
    field_errors,
    parse_json,
    text_errors,
)
from ec2_service.request_log import configure_logging, log_event, log_request
from ec2_service.settings import ServiceSettings, load_settings
from shared import frames
from shared.integration_models import IntegrationRequest
from shared.names import INTEGRATION_SECRET_HEADER
from shared.routes import CONNECT, DISCONNECT, Route, service_routes

log = logging.getLogger("wsgate.service")

OPEN_PATHS = frozenset({"/health", "/ready"})
"""The NLB's health check and deploy scripts call these without the caller secret."""
CLIENT_PARTS = ("payload", "body")
"""Body fields that carry what the WebSocket client sent (the rest comes from the gateway)."""


def _refusal(message: str, errors: list[FieldError], status: int = 400) -> HTTPResponse:
    return json_response(
        {"message": message, "errors": [e.as_dict() for e in errors]}, status=status
    )


def _reply(frame: bytes, status: int = 200) -> HTTPResponse:
    """The frame API Gateway sends the sender as the route response (a replying route)."""
    return HTTPResponse(frame, status=status, content_type="application/json")


def _fields(request: Request) -> dict[str, Any]:
    """The request's log fields (created on first use: a 413 can skip request middleware)."""
    if not hasattr(request.ctx, "log"):
        request.ctx.log = {"path": request.path}
    fields: dict[str, Any] = request.ctx.log
    return fields


def caller_secret(settings: ServiceSettings) -> CallerSecret:
    if settings.integration_secret is not None:
        fetch = static_secret(settings.integration_secret.get_secret_value())
    else:
        assert settings.integration_secret_id is not None
        fetch = secrets_manager_secret(settings.integration_secret_id, settings.region)
    return CallerSecret(fetch, settings.integration_secret_refresh_s)


async def _refuse_or_tell(
    route: Route,
    data: Any,
    errors: list[FieldError],
    backends: Backends,
    log_fields: dict[str, Any],
) -> HTTPResponse:
    """An invalid body: when only the client's part is wrong, tell the client with an error
    frame (the reply of a replying route, else a push) and answer 2xx (a 4xx reaches no one on
    a one-way route); otherwise 400."""
    log_fields["errors"] = [str(e) for e in errors]
    connection_id = connection_id_of(data)
    clients_fault = all(e.loc.split(".")[0] in CLIENT_PARTS for e in errors)
    if route.key not in (CONNECT, DISCONNECT) and clients_fault:
        frame = frames.error_frame("Your message was refused: " + "; ".join(str(e) for e in errors))
        if connection_id:
            log_fields["connectionId"] = connection_id
        if route.reply:
            log_fields["reason"] = "refused-sender-told"
            return _reply(frame)
        if connection_id and await push_to_sender(backends, connection_id, frame):
            log_fields["reason"] = "refused-sender-told"
            body = {"message": "Invalid request body; the sender was told", "toldSender": True}
            return json_response(body | {"errors": [e.as_dict() for e in errors]})
    log_fields["reason"] = "refused"
    return _refusal("Invalid request body", errors)


class _Answered(Exception):
    """The request is answered before its handler runs (bad body, wrong configuration)."""

    def __init__(self, response: HTTPResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _checked_body(request: Request, settings: ServiceSettings, log_fields: dict[str, Any]) -> Any:
    """The JSON body, once it is JSON and its envelope matches this service's configuration."""
    try:
        check_content_type(request.headers.get("content-type"))
        data = parse_json(request.body or b"")
    except BadInput as error:
        log_fields["reason"] = "refused"
        raise _Answered(_refusal(error.message, error.errors)) from None
    mismatch = envelope_errors(data, settings)
    if mismatch:
        log_fields["reason"] = "configuration-mismatch"
        log_fields["errors"] = [str(e) for e in mismatch]
        raise _Answered(_refusal("Request does not match this service's configuration", mismatch))
    return data


def _parsed(model: type[IntegrationRequest], data: Any) -> IntegrationRequest | list[FieldError]:
    """The body as the route's model, or every problem found (text rules, then the model's)."""
    problems = text_errors(data, model.opaque_fields)
    if problems:
        return problems
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return field_errors(error)


def _respond(route: Route, outcome: Outcome, log_fields: dict[str, Any]) -> HTTPResponse:
    """The handler's outcome as API Gateway needs it: a replying route's 2xx without a reply is
    204 (nothing sent to the client)."""
    if outcome.fan_out is not None:
        fan_out = outcome.fan_out
        log_fields.update(
            delivered=fan_out.delivered, gone=len(fan_out.gone), failed=len(fan_out.failed)
        )
    if outcome.reason:
        log_fields["reason"] = outcome.reason
    if outcome.reply is not None:
        return _reply(outcome.reply, outcome.status)
    if route.reply and 200 <= outcome.status < 300:
        return HTTPResponse(status=204)
    return json_response(outcome.body, status=outcome.status)


def _route_view(route: Route, backends: Backends, settings: ServiceSettings) -> Any:
    handler = HANDLERS[route.key]
    model = route.integration_model

    async def view(request: Request) -> HTTPResponse:
        log_fields = _fields(request)
        log_fields["route"] = route.key
        try:
            data = _checked_body(request, settings, log_fields)
        except _Answered as answered:
            return answered.response
        parsed = _parsed(model, data)
        if isinstance(parsed, list):
            return await _refuse_or_tell(route, data, parsed, backends, log_fields)
        log_fields["connectionId"] = parsed.connectionId
        try:
            outcome = await handler(parsed, backends)
        except HandlerError as error:
            outcome = Outcome(error.status, {"message": error.message})
        return _respond(route, outcome, log_fields)

    view.__name__ = f"route_{route.path.strip('/') or 'root'}"
    return view


def _add_middleware(app: Sanic[Any, Any], secret: CallerSecret) -> None:
    @app.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        request.ctx.started = time.perf_counter()
        log_fields = _fields(request)
        if request.path in OPEN_PATHS:
            return None
        presented = request.headers.get(INTEGRATION_SECRET_HEADER)
        if secret.accepts(presented):
            return None
        log_fields["reason"] = "forbidden"
        log_event(
            "forbidden",
            path=request.path,
            peer=request.ip,
            why="missing caller secret" if presented is None else "wrong caller secret",
        )
        return json_response({"message": "Forbidden"}, status=403)

    @app.middleware("response")
    async def log_status(request: Request, response: BaseHTTPResponse) -> None:
        if request.path in OPEN_PATHS:
            return
        started = getattr(request.ctx, "started", None)
        latency = round((time.perf_counter() - started) * 1000, 2) if started else None
        log_request(**_fields(request), status=response.status, latencyMs=latency)


def create_app(settings: ServiceSettings | None = None, name: str = "wsgate") -> Sanic[Any, Any]:
    """Build the service; a factory so tests (and Sanic's workers) can make fresh ones."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    check_handlers()
    app: Sanic[Any, Any] = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.DEBUG = False
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    backends = Backends(settings)
    secret = caller_secret(settings)
    app.ctx.backends = backends
    app.ctx.caller_secret = secret
    _add_middleware(app, secret)
    for route in service_routes():
        app.add_route(_route_view(route, backends, settings), route.path, methods=[route.method])
    _add_probes(app, backends)
    _add_error_handlers(app)
    _add_lifecycle(app, secret, backends)
    return app


def _add_probes(app: Sanic[Any, Any], backends: Backends) -> None:
    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        """For the NLB target group: the process answers. Cheap, no dependencies."""
        return json_response({"status": "ok"})

    @app.get("/ready")
    async def ready(request: Request) -> HTTPResponse:
        """Also checks DynamoDB answers, for deploy scripts and humans."""
        try:
            store = await backends.store()
            await store.ping()
        except Exception as error:  # any failure means "not ready", with the reason
            return json_response({"status": "unavailable", "reason": str(error)}, status=503)
        return json_response({"status": "ready", "table": store.table_name})


def _add_error_handlers(app: Sanic[Any, Any]) -> None:
    """Errors answer JSON with a message, never a traceback."""

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException) -> HTTPResponse:
        return json_response({"message": str(error)}, status=error.status_code)

    @app.exception(Exception)
    async def internal_error(request: Request, error: Exception) -> HTTPResponse:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"message": "Internal server error"}, status=500)


def _add_lifecycle(app: Sanic[Any, Any], secret: CallerSecret, backends: Backends) -> None:
    """Clients open before the first request and close after the last; the caller secret is
    loaded before serving and refreshed while serving."""

    @app.before_server_start
    async def open_clients(app: Sanic[Any, Any]) -> None:
        await secret.load()  # no secret, no service: it must never answer unauthenticated
        await backends.open()

    @app.after_server_start
    async def refresh_secret(app: Sanic[Any, Any]) -> None:
        app.ctx.refresher = asyncio.get_running_loop().create_task(secret.keep_fresh())

    @app.before_server_stop
    async def stop_refreshing(app: Sanic[Any, Any]) -> None:
        refresher = getattr(app.ctx, "refresher", None)
        if refresher is not None:
            refresher.cancel()

    @app.after_server_stop
    async def close_clients(app: Sanic[Any, Any]) -> None:
        await backends.close()
