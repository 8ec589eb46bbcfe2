"""The gateway: WebSocket clients in, integrations out, ``@connections`` back in, on one port.

One asyncio loop serves every connection: aiohttp parses HTTP (the handshake and
``@connections``), then ``frames.WebSocketLink`` owns each upgraded socket frame by frame.
Integration calls share one keep-alive HTTP session; templates and JSON-schema validators are
compiled once. The order of checks on ``$connect`` and on each message follows the reference
notes, section 1; the messages of one connection run concurrently (``pump.MessagePump``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

from shared.names import API_KEY_FROM_AUTHORIZER
from wsgate.gateway import errors, limits
from wsgate.gateway.admin import mount_admin
from wsgate.gateway.authorizer import (
    AuthorizerFunction,
    invoke,
    load_function,
    missing_identity,
    request_event,
)
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.connect_attempt import ConnectAttempt, ConnectRefused
from wsgate.gateway.connections import Connection, ConnectionRegistry
from wsgate.gateway.events import EventKind
from wsgate.gateway.execution_log import ExecutionLog
from wsgate.gateway.frames import negotiate, upgrade
from wsgate.gateway.ids import request_id as new_request_id
from wsgate.gateway.integration import VtlVariables, call
from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
from wsgate.gateway.message_text import utf8
from wsgate.gateway.pump import MessagePump
from wsgate.gateway.request_context import request_context, request_head_size
from wsgate.gateway.selection import parse_body, select_route
from wsgate.gateway.sigv4 import SigV4Verifier
from wsgate.gateway.template_loader import Integration, Route, WebSocketApiConfig, load_api
from wsgate.gateway.throttling import KeyVerdict, StageThrottle, UsagePlans
from wsgate.gateway.validation import RequestValidator


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.api: WebSocketApiConfig = load_api(
            config.template, parameters=config.parameters, backend=config.backend
        )
        self.log = ExecutionLog(self.api.stage, config.log_level)
        self.registry = ConnectionRegistry(config.message_limit)
        if config.connections_credentials is not None:
            self.registry.verifier = SigV4Verifier(
                config.connections_credentials, PSEUDO_PARAMETERS["AWS::Region"]
            )
        self.events = self.registry.events
        self.stage_throttle = StageThrottle(
            self.api.stage.default_throttle, self.api.stage.route_throttles
        )
        self.usage_plans = UsagePlans(self.api.usage_plans)
        self.validator = RequestValidator(self.api.models)
        self.route_keys = set(self.api.routes)
        self._authorizers: dict[str, AuthorizerFunction] = {}
        self.pumps: set[MessagePump] = set()
        self.session: aiohttp.ClientSession | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def authorizer_function(self, arn: str) -> AuthorizerFunction:
        if arn in self.config.authorizers:
            return self.config.authorizers[arn]
        if arn not in self._authorizers:
            self._authorizers[arn] = load_function(self.config.authorizer)
        return self._authorizers[arn]

    def context(
        self,
        connection: Connection | ConnectAttempt,
        request_id: str,
        route_key: str,
        event_type: str,
    ) -> dict[str, Any]:
        """``$context`` of a request on an open connection (or one being admitted)."""
        return request_context(
            api_id=self.api.api_id,
            stage=self.api.stage.name,
            connection_id=connection.connection_id,
            request_id=request_id,
            route_key=route_key,
            event_type=event_type,
            connected_at=connection.connected_at,
            source_ip=connection.source_ip,
            user_agent=connection.user_agent,
            authorizer=connection.authorizer,
            api_key=connection.api_key,
        )

    @staticmethod
    def _reject(status: int) -> web.Response:
        body = json.dumps({"message": errors.HANDSHAKE_BODIES.get(status, "Error")})
        return web.Response(status=status, text=body, content_type="application/json")

    # -- $connect ---------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"message": "Upgrade Required"}, status=426)
        if request_head_size(request) > limits.HEADER_LIMIT_BYTES:
            # Only the size is logged: the headers may carry secrets, and are not echoed.
            self.log.error("-", "-", "$connect", "request line and headers over the size limit")
            return self._reject(errors.HEADERS_TOO_LARGE_STATUS)
        handshake = negotiate(request.path, request.headers)
        if not handshake.accepted:
            return self._reject(handshake.response.status_code)
        attempt = ConnectAttempt.of(request)
        try:
            await self._admit(attempt)
        except ConnectRefused as refusal:
            return self._refuse(attempt, refusal.status, refusal.why)
        return await self._serve(
            request, handshake, attempt.identity, self._connect_context(attempt, 200)
        )

    async def _admit(self, attempt: ConnectAttempt) -> None:
        """Run the ``$connect`` checks in API Gateway's order (stage throttle, authorizer, API
        key, integration); the first that fails raises :class:`ConnectRefused`."""
        if not self.stage_throttle.allow("$connect"):
            raise ConnectRefused(errors.THROTTLED_STATUS, "throttled by stage settings")
        route = self.api.routes.get("$connect")
        if route is None:
            return
        usage_key = await self._authorize(attempt, route.authorizer) if route.authorizer else None
        if route.api_key_required:
            self._check_api_key(attempt, usage_key)
        if route.integration is not None:
            await self._connect_integration(attempt, route.integration)

    async def _authorize(self, attempt: ConnectAttempt, name: str) -> str | None:
        """Call the route's authorizer; keep its context on the attempt and return the usage
        identifier key it chose (API keys may come from there)."""
        authorizer = self.api.authorizers[name]
        missing = missing_identity(authorizer.identity_sources, attempt.headers, attempt.query)
        if missing:
            raise ConnectRefused(errors.UNAUTHORIZED_STATUS, f"identity source {missing} missing")
        event = request_event(
            api_id=self.api.api_id,
            stage=self.api.stage.name,
            stage_variables=self.api.stage.variables,
            headers=attempt.headers,
            query=attempt.query,
            context=self._connect_context(attempt),
        )
        outcome = await invoke(self.authorizer_function(authorizer.function_arn), event)
        if outcome.status is not None:
            raise ConnectRefused(outcome.status, f"authorizer: {outcome.error}")
        attempt.authorizer = {"principalId": outcome.principal_id, **(outcome.context or {})}
        return outcome.usage_identifier_key

    def _check_api_key(self, attempt: ConnectAttempt, usage_key: str | None) -> None:
        """Take the API key from where the API's key source says, and check its usage plan."""
        if self.api.api_key_selection == API_KEY_FROM_AUTHORIZER:
            attempt.api_key = usage_key
        else:
            attempt.api_key = next(
                (v for k, v in attempt.headers.items() if k.lower() == "x-api-key"), None
            )
        verdict = self.usage_plans.check(attempt.api_key)
        if verdict == KeyVerdict.FORBIDDEN:
            raise ConnectRefused(errors.FORBIDDEN_STATUS, "API key missing or not in a usage plan")
        if verdict in (KeyVerdict.THROTTLED, KeyVerdict.QUOTA):
            raise ConnectRefused(errors.THROTTLED_STATUS, f"usage plan: {verdict}")

    async def _connect_integration(self, attempt: ConnectAttempt, integration: Integration) -> None:
        """Call the ``$connect`` integration: an error or a non-2xx answer refuses the client."""
        variables = VtlVariables(
            self._connect_context(attempt),
            self.api.stage.variables,
            "",
            attempt.headers,
            attempt.query,
        )
        result = await call(integration, variables, self._session())
        self.log.endpoint_request(
            attempt.request_id, attempt.connection_id, "$connect", result.endpoint_request
        )
        if result.error_frame is not None:
            raise ConnectRefused(errors.AUTHORIZER_FAILURE_STATUS, result.log_error or "")
        if result.status is not None and not 200 <= result.status < 300:
            raise ConnectRefused(result.status, f"integration answered {result.status}")

    def _connect_context(
        self, attempt: ConnectAttempt, status: int | None = None
    ) -> dict[str, Any]:
        """``$context`` of the ``$connect`` request, as far as the checks so far have filled it."""
        c = self.context(attempt, attempt.request_id, "$connect", "CONNECT")
        c["status"] = status
        return c

    def _refuse(self, attempt: ConnectAttempt, status: int, why: str) -> web.Response:
        self.log.error(attempt.request_id, attempt.connection_id, "$connect", why)
        self.events.publish(
            EventKind.THROTTLED if status == errors.THROTTLED_STATUS else EventKind.CONNECT_REFUSED,
            attempt.connection_id,
            route="$connect",
            status=status,
            reason=why,
        )
        self.log.access(self._connect_context(attempt, status))
        return self._reject(status)

    async def _serve(
        self,
        request: web.Request,
        handshake: Any,
        identity: tuple[str, int, str, str, dict[str, Any], str | None],
        access: dict[str, Any],
    ) -> web.StreamResponse:
        """Answer 101, then serve the connection's messages until it closes."""
        pumps: list[MessagePump] = []

        def on_message(text: str) -> None:
            connection.touch()
            pumps[0].submit(text)

        try:
            link = await upgrade(
                request,
                handshake,
                on_message,
                frame_limit=self.config.frame_limit,
                message_limit=self.config.message_limit,
                send_queue_bytes=self.config.send_queue_bytes,
            )
        except ConnectionResetError:
            # Gone while $connect ran: there is no connection to serve or disconnect.
            self.log.error(access["requestId"], identity[0], "$connect", "client left")
            return web.Response(status=499)
        connection = Connection(identity[0], link, *identity[1:])
        pumps.append(
            MessagePump(
                lambda text: self._on_message(connection, text),
                link.pause_reading,
                link.resume_reading,
                concurrency=self.config.message_concurrency,
            )
        )
        self.registry.add(connection)
        self.pumps.add(pumps[0])
        self.events.publish(
            EventKind.CONNECT,
            connection.connection_id,
            route="$connect",
            status=101,
            user=connection.user,
            keySource=None
            if connection.api_key is None
            else "authorizer"
            if self.api.api_key_selection == API_KEY_FROM_AUTHORIZER
            else "header",
        )
        self.log.access(access)
        try:
            await link.wait_closed()
        finally:
            self.registry.remove(connection.connection_id)
            await self._disconnect(connection)
            # Messages still in flight keep running (their integrations are called, as on
            # AWS); the gateway cancels them only when it stops.
            pump = pumps[0]
            pump.when_idle(lambda: self.pumps.discard(pump))
        return link.response

    # -- messages ---------------------------------------------------------------------------

    async def _on_message(self, connection: Connection, data: str) -> None:
        request_id = new_request_id()
        cid = connection.connection_id
        document = parse_body(data)
        route_key = select_route(self.api.route_selection, document, self.route_keys, "$default")
        if route_key is None:
            await self._send_error(connection, errors.FORBIDDEN, request_id)
            return
        route = self.api.routes[route_key]
        self.events.publish(
            EventKind.ROUTE,
            cid,
            route=route_key,
            requestId=request_id,
            user=connection.user,
            preview=data[:200],
        )
        if not self.stage_throttle.allow(route_key):
            self.events.publish(
                EventKind.THROTTLED, cid, route=route_key, status=429, user=connection.user
            )
            await self._send_error(connection, errors.TOO_MANY_REQUESTS, request_id)
            return
        if not await self._valid(route, document, connection, request_id):
            return
        if route.integration is None:
            return
        context = self.context(connection, request_id, route_key, "MESSAGE")
        variables = VtlVariables(context, self.api.stage.variables, data, {}, {}, document)
        started = time.monotonic()
        result = await call(route.integration, variables, self._session())
        self.events.publish(
            EventKind.INTEGRATION,
            cid,
            route=route_key,
            status=result.status,
            latencyMs=round((time.monotonic() - started) * 1000, 1),
            error=result.log_error,
            user=connection.user,
        )
        self.log.endpoint_request(request_id, cid, route_key, result.endpoint_request)
        if result.error_frame is not None:
            self.log.error(request_id, cid, route_key, result.log_error or result.error_frame)
            await self._send_error(connection, result.error_frame, request_id)
        elif route.two_way and result.body:
            connection.send(utf8(result.body))
        context["status"] = result.status or 500
        self.log.access(context)

    async def _valid(
        self, route: Route, document: Any, connection: Connection, request_id: str
    ) -> bool:
        verdict = self.validator.check(route.model_selection, route.request_models, document)
        if verdict.valid:
            return True
        problems = verdict.problems
        self.events.publish(
            EventKind.VALIDATION_FAILED,
            connection.connection_id,
            route=route.key,
            problems=list(problems),
            user=connection.user,
        )
        self.log.error(
            request_id,
            connection.connection_id,
            route.key,
            errors.MODEL_MISMATCH + "[" + ", ".join(problems) + "]",
        )
        await self._send_error(connection, errors.INVALID_REQUEST_BODY, request_id)
        return False

    async def _send_error(self, connection: Connection, text: str, request_id: str) -> None:
        connection.send(utf8(errors.error_frame(text, connection.connection_id, request_id)))

    # -- $disconnect and timeouts -----------------------------------------------------------

    async def _disconnect(self, connection: Connection) -> None:
        route = self.api.routes.get("$disconnect")
        code, reason = connection.closed_by_server or connection.link.disconnect_status()
        request_id = new_request_id()
        context = self.context(connection, request_id, "$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        self.events.publish(
            EventKind.DISCONNECT,
            connection.connection_id,
            route="$disconnect",
            code=code,
            reason=reason,
            user=connection.user,
        )
        if route is not None and route.integration is not None and self.session is not None:
            variables = VtlVariables(context, self.api.stage.variables, "", {}, {})
            result = await call(route.integration, variables, self.session)
            self.log.endpoint_request(
                request_id, connection.connection_id, "$disconnect", result.endpoint_request
            )
            if result.error_frame:
                self.log.error(
                    request_id,
                    connection.connection_id,
                    "$disconnect",
                    result.log_error or result.error_frame,
                )
        context["status"] = 200
        self.log.access(context)

    async def sweep(self) -> None:
        """Close idle connections (10 min) and those past the maximum duration (2 h)."""
        interval = max(
            0.05, min(5.0, self.config.idle_timeout_s / 10, self.config.max_duration_s / 10)
        )
        while True:
            await asyncio.sleep(interval)
            now = time.time()
            for connection in list(self.registry.connections.values()):
                idle = now - connection.last_active > self.config.idle_timeout_s
                expired = now - connection.connected_at / 1000 > self.config.max_duration_s
                if (idle or expired) and not connection.closed:
                    reason = "Going away" if idle else "Connection exceeded maximum duration"
                    connection.close(errors.CLOSE_GOING_AWAY, reason)

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=512, keepalive_timeout=60),
                auto_decompress=False,
            )
        return self.session

    def application(self) -> web.Application:
        app = web.Application()
        self.registry.add_routes(app, self.api.stage.name)
        if self.config.admin:
            mount_admin(app, self)
        for path in {self.api.stage.name, *self.api.mapping_keys}:
            app.router.add_get(f"/{path}", self.websocket)
            if path:
                # AWS's own wscat example and Chalice print the URL with a trailing slash.
                app.router.add_get(f"/{path}/", self.websocket)
        app.router.add_route("*", "/{tail:.*}", self._forbidden)
        return app

    async def _forbidden(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "Forbidden"}, status=403)
