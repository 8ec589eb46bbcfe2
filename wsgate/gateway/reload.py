"""Re-reading the template in a running gateway, without closing a single WebSocket.

LOCAL ONLY, like the admin surface it is mounted with (``wsgate gateway --admin``): API
Gateway's nearest equivalent is a new deployment of the stage, which also keeps connections
open. ``POST /_wsgate/reload`` loads the template file the gateway was started with again;
only if the whole new API loads are the routes, models, templates, authorizers and throttles
swapped in, between two messages. Open connections keep their ids and identity; the next
message of each is selected, validated and integrated by the new API. A template that fails
to load changes nothing and is answered with a 400 naming the problem.

With ``{"reimport": true}`` the project's code the gateway runs itself is imported again too:
the ``$connect`` authorizer (in-process) and the Lambda functions (warm workers are retired,
so the next invocation starts one with the new code). If that import fails, the previous
modules are put back.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from wsgate.gateway import lambda_runtime
from wsgate.gateway.authorizer import AuthorizerFunction, load_function
from wsgate.gateway.execution_log import ExecutionLog
from wsgate.gateway.template_loader import WebSocketApiConfig, load_api
from wsgate.gateway.throttling import StageThrottle, UsagePlans
from wsgate.gateway.validation import RequestValidator

if TYPE_CHECKING:
    from wsgate.gateway.server import Gateway

RELOAD_PATH = "/_wsgate/reload"
REIMPORTED_PACKAGES = ("shared", "chalice_app")
"""The project's packages the gateway imports: the authorizer's and what it builds on."""


class ReloadError(RuntimeError):
    """The new template or code cannot be served; the previous API keeps running."""


@dataclass(frozen=True)
class Reloaded:
    """What the gateway serves after a reload."""

    api: WebSocketApiConfig
    authorizers: dict[str, AuthorizerFunction]
    elapsed_ms: float
    retired_workers: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "routes": sorted(self.api.routes),
            "models": sorted(self.api.models),
            "retiredWorkers": self.retired_workers,
            "elapsedMs": round(self.elapsed_ms, 1),
        }


def _owned(name: str, packages: tuple[str, ...]) -> bool:
    return name.split(".", 1)[0] in packages


@contextmanager
def fresh_modules(packages: tuple[str, ...]) -> Iterator[None]:
    """Import ``packages`` anew inside the block; on an error, put the previous modules back.

    Modules already imported keep their references to the old ones (the gateway's own code
    holds only ``shared.names`` constants), so only new imports see the edited files.
    """
    previous: dict[str, ModuleType] = {
        name: module for name, module in sys.modules.items() if _owned(name, packages)
    }
    for name in previous:
        del sys.modules[name]
    try:
        yield
    except BaseException:
        for name in [name for name in sys.modules if _owned(name, packages)]:
            del sys.modules[name]
        sys.modules.update(previous)
        raise


def _packages(authorizer_spec: str) -> tuple[str, ...]:
    top = authorizer_spec.partition(":")[0].split(".", 1)[0]
    return tuple(dict.fromkeys((*REIMPORTED_PACKAGES, top)))


def _load(gateway: Gateway, reimport: bool) -> tuple[WebSocketApiConfig, dict[str, Any]]:
    """The new API and authorizer functions, or :class:`ReloadError` (nothing is swapped)."""
    config = gateway.config
    if isinstance(config.template, Mapping):
        raise ReloadError("this gateway was given a parsed template, not a file to re-read")
    functions: dict[str, AuthorizerFunction] = {}
    try:
        with fresh_modules(_packages(config.authorizer) if reimport else ()):
            api = load_api(config.template, parameters=config.parameters, backend=config.backend)
            if reimport:
                for authorizer in api.authorizers.values():
                    if authorizer.function_arn not in config.authorizers:
                        functions[authorizer.function_arn] = load_function(config.authorizer)
    except Exception as error:  # the edited template or code: any failure is the developer's
        first_line = f"{type(error).__name__}: {error}".splitlines()[0]
        raise ReloadError(first_line) from None
    old = gateway.api
    if (api.stage.name, sorted(api.mapping_keys)) != (old.stage.name, sorted(old.mapping_keys)):
        raise ReloadError(
            f"the stage or mappings changed ({old.stage.name} -> {api.stage.name}): the gateway "
            "serves them at new paths; restart wsgate local"
        )
    return api, functions


def swap(gateway: Gateway, api: WebSocketApiConfig, authorizers: dict[str, Any] | None) -> None:
    """Serve ``api`` from the next message on; counters survive where limits did not change."""
    old = gateway.api
    gateway.api = api
    gateway.route_keys = set(api.routes)
    gateway.validator = RequestValidator(api.models)
    gateway.log = ExecutionLog(api.stage, gateway.config.log_level)
    stage_limits = (api.stage.default_throttle, api.stage.route_throttles)
    if stage_limits != (old.stage.default_throttle, old.stage.route_throttles):
        gateway.stage_throttle = StageThrottle(*stage_limits)
    if api.usage_plans != old.usage_plans:
        gateway.usage_plans = UsagePlans(api.usage_plans)
    if authorizers is not None:
        gateway._authorizers = authorizers


async def reload_gateway(gateway: Gateway, reimport: bool) -> Reloaded:
    """Load the template (and code) off the event loop, then swap it in on the loop."""
    started = time.monotonic()
    api, functions = await asyncio.to_thread(_load, gateway, reimport)
    swap(gateway, api, functions if reimport else None)
    retired = await lambda_runtime.runtime().retire() if reimport else 0
    return Reloaded(api, functions, (time.monotonic() - started) * 1000, retired)


def mount_reload(app: web.Application, gateway: Gateway) -> None:
    """Add ``POST /_wsgate/reload``; reloads are serialized so two never interleave."""
    lock = asyncio.Lock()

    async def reload(request: web.Request) -> web.Response:
        try:
            body: Any = await request.json() if request.can_read_body else {}
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("reimport", False), bool):
            return web.json_response({"message": 'expected {"reimport": true|false}'}, status=400)
        async with lock:
            try:
                reloaded = await reload_gateway(gateway, body.get("reimport", False))
            except ReloadError as error:
                return web.json_response({"message": str(error)}, status=400)
        return web.json_response(reloaded.to_json())

    app.router.add_post(RELOAD_PATH, reload)
