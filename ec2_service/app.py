"""The Sanic application: its HTTP routes are generated from ``shared.routes``.

Each table entry becomes ``<method> <path>``; the body is parsed with the route's integration
model, so the service and the gateway's request template agree by construction. Bad input is a
400 naming each field error; nothing a client sends can produce a 500 or a stack trace.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from pydantic import ValidationError
from sanic import HTTPResponse, Request, Sanic
from sanic import json as json_response
from sanic.exceptions import SanicException

from ec2_service.backends import Backends
from ec2_service.handlers import HANDLERS, HandlerError, Outcome, check_handlers
from ec2_service.request_log import configure_logging, log_request
from ec2_service.settings import ServiceSettings
from shared.routes import ROUTES, Route

log = logging.getLogger("wsgate.service")


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as ``{"loc": "payload.roomname", "msg": ...}``, without input echo."""
    return [
        {"loc": ".".join(str(part) for part in item["loc"]), "msg": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


def _bad_request(message: str, errors: list[dict[str, Any]] | None = None) -> HTTPResponse:
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=400)


def _route_view(route: Route, backends: Backends) -> Any:
    handler = HANDLERS[route.key]
    model = route.integration_model

    async def view(request: Request) -> HTTPResponse:
        started = time.perf_counter()
        outcome = Outcome()
        connection_id = None
        try:
            try:
                data = json.loads(request.body or b"")
            except ValueError as error:
                outcome = Outcome(400, {"message": f"Invalid JSON: {error}"})
                return _bad_request(f"Invalid JSON: {error}")
            try:
                parsed = model.model_validate(data)
            except ValidationError as error:
                outcome = Outcome(400)
                return _bad_request("Invalid request body", field_errors(error))
            connection_id = parsed.connectionId
            try:
                outcome = await handler(parsed, backends)
            except HandlerError as error:
                outcome = Outcome(error.status, {"message": error.message})
            return json_response(outcome.body, status=outcome.status)
        finally:
            fan_out = outcome.fan_out
            log_request(
                route=route.key,
                path=route.path,
                connectionId=connection_id,
                status=outcome.status,
                latencyMs=round((time.perf_counter() - started) * 1000, 2),
                delivered=fan_out.delivered if fan_out else None,
                gone=len(fan_out.gone) if fan_out else None,
                failed=len(fan_out.failed) if fan_out else None,
            )

    view.__name__ = f"route_{route.path.strip('/') or 'root'}"
    return view


def create_app(settings: ServiceSettings | None = None, name: str = "wsgate") -> Sanic[Any, Any]:
    """Build the service; a factory so tests (and Sanic's workers) can make fresh ones."""
    settings = settings or ServiceSettings()
    configure_logging(settings.log_level)
    check_handlers()
    app: Sanic[Any, Any] = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.DEBUG = False
    backends = Backends(settings)
    app.ctx.backends = backends

    for route in ROUTES:
        app.add_route(_route_view(route, backends), route.path, methods=[route.method])

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

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException) -> HTTPResponse:
        return json_response({"message": str(error)}, status=error.status_code)

    @app.exception(Exception)
    async def internal_error(request: Request, error: Exception) -> HTTPResponse:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"message": "Internal server error"}, status=500)

    @app.after_server_stop
    async def close_clients(app: Sanic[Any, Any]) -> None:
        await backends.close()

    return app
