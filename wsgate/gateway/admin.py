"""A read-only admin surface of the local gateway: connections, events, usage counters.

LOCAL ONLY: API Gateway has no such endpoint (its equivalents are CloudWatch metrics and logs
and ``GetConnection``). It is mounted only when the gateway runs with ``--admin`` (``wsgate
local`` does), it is bound to 127.0.0.1 like the rest of the gateway, and it changes nothing:
pushing to or closing a connection goes through ``@connections``, as in AWS.

* ``GET /_wsgate/connections``: open connections with their user and activity times.
* ``GET /_wsgate/events``: Server-Sent Events; the ring buffer first (after ``?after=SEQ`` or
  ``Last-Event-ID``), then live events.
* ``GET /_wsgate/usage``: stage/route token buckets and each usage plan's bucket and quota.

One route changes the gateway, for ``wsgate local --reload``: ``POST /_wsgate/reload`` re-reads
its own template (``wsgate.gateway.reload``); it never touches a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from wsgate.gateway.connections import Connection
from wsgate.gateway.events import EventBus, GatewayEvent, Subscription
from wsgate.gateway.reload import mount_reload
from wsgate.gateway.template_loader import UsagePlan
from wsgate.gateway.throttling import StageThrottle, TokenBucket, UsagePlans, quota_window

if TYPE_CHECKING:
    from wsgate.gateway.server import Gateway

ADMIN_PREFIX = "/_wsgate"
KEEPALIVE_S = 15.0
"""An SSE comment line this often, so proxies and the reader notice a dead stream."""


def connection_json(connection: Connection) -> dict[str, Any]:
    """What the developer panel lists about one connection (times in epoch milliseconds)."""
    authorizer = connection.authorizer
    return {
        "connectionId": connection.connection_id,
        "user": authorizer.get("userId") or authorizer.get("principalId"),
        "name": authorizer.get("name"),
        "connectedAt": connection.connected_at,
        "lastActiveAt": int(connection.last_active * 1000),
        "sourceIp": connection.source_ip,
        "userAgent": connection.user_agent,
    }


def _bucket_json(bucket: TokenBucket, clock_now: float) -> dict[str, Any]:
    """A bucket's limits and the tokens it would have now (read without taking one)."""
    refilled = bucket.tokens + (clock_now - bucket.updated) * bucket.rate
    return {"burst": bucket.burst, "rate": bucket.rate, "tokensLeft": min(bucket.burst, refilled)}


def stage_usage(throttle: StageThrottle) -> dict[str, Any]:
    """Default and per-route buckets of the stage (``DefaultRouteSettings``/``RouteSettings``).

    Reads the buckets' state directly: the throttling classes expose no read-only view and this
    surface must not take tokens.
    """
    default: TokenBucket | None = throttle._default
    routes: dict[str, TokenBucket] = throttle._routes
    now = (default or next(iter(routes.values()), None) or TokenBucket(0, 0)).clock()
    return {
        "default": None if default is None else _bucket_json(default, now),
        "routes": {key: _bucket_json(bucket, now) for key, bucket in routes.items()},
    }


def _key_usage(plans: UsagePlans, plan: UsagePlan, value: str) -> dict[str, Any]:
    """What one API key has left: tokens in its bucket and requests in its quota window."""
    bucket = plans._buckets.get(value)
    tokens_left: float | None = None
    if bucket is not None:
        tokens_left = _bucket_json(bucket, plans._clock())["tokensLeft"]
    elif plan.throttle is not None:
        tokens_left = float(plan.throttle.burst)
    quota = plans._quotas.get(value)
    used = 0
    if quota is not None and quota.window == quota_window(quota.period, plans._wall_clock()):
        used = quota.used
    return {
        "key": "..." + value[-4:],
        "tokensLeft": tokens_left,
        "quotaUsed": used,
        "quotaLeft": None if plan.quota_limit is None else plan.quota_limit - used,
    }


def plan_usage(plans: UsagePlans) -> list[dict[str, Any]]:
    """Each usage plan's limits and, per API key (shown by its last 4 characters), what is left.

    Reads the plans' private state for the same reason as ``stage_usage``.
    """
    return [
        {
            "name": plan.name,
            "burst": plan.throttle.burst if plan.throttle else None,
            "rate": plan.throttle.rate if plan.throttle else None,
            "quotaLimit": plan.quota_limit,
            "quotaPeriod": plan.quota_period,
            "keys": [_key_usage(plans, plan, value) for value in plans.keys_of(plan)],
        }
        for plan in dict.fromkeys(plans._plan_of.values())
    ]


def sse_message(event: GatewayEvent) -> bytes:
    """One Server-Sent Events message; ``id`` lets EventSource resume with Last-Event-ID."""
    data = json.dumps(event.to_json(), separators=(",", ":"))
    return f"id: {event.seq}\nevent: gateway\ndata: {data}\n\n".encode()


def _after(request: web.Request) -> int:
    raw = request.query.get("after") or request.headers.get("Last-Event-ID") or "0"
    if not raw.isdigit():
        raise web.HTTPBadRequest(
            text=json.dumps({"message": f"after must be a non-negative integer, not {raw!r}"}),
            content_type="application/json",
        )
    return int(raw)


async def _next_event(subscription: Subscription, stopping: asyncio.Event) -> GatewayEvent | None:
    """The next event; None when the gateway stops or after ``KEEPALIVE_S`` of silence."""
    getter = asyncio.ensure_future(subscription.queue.get())
    stopper = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({getter, stopper}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if getter.done():
        return getter.result()
    getter.cancel()
    return None


async def stream_events(
    request: web.Request, bus: EventBus, stopping: asyncio.Event
) -> web.StreamResponse:
    """History after the reader's last seen ``seq``, then live events until it goes away or
    the gateway stops (then the stream ends cleanly, so shutdown never waits for a reader)."""
    after = _after(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    with bus.subscribe() as subscription, contextlib.suppress(ConnectionResetError):
        for past in bus.recent(after):
            after = past.seq
            await response.write(sse_message(past))
        while not stopping.is_set():
            event = await _next_event(subscription, stopping)
            if event is None:
                if not stopping.is_set():
                    await response.write(b": keepalive\n\n")
            elif event.seq > after:
                await response.write(sse_message(event))
        await response.write_eof()
    return response


def mount_admin(app: web.Application, gateway: Gateway) -> None:
    """Add the admin routes (before the gateway's catch-all 403 route)."""

    async def connections(request: web.Request) -> web.Response:
        open_ = [c for c in gateway.registry.connections.values() if not c.closed]
        return web.json_response(
            {"connections": [connection_json(c) for c in open_], "now": int(time.time() * 1000)}
        )

    stopping = asyncio.Event()

    async def events(request: web.Request) -> web.StreamResponse:
        return await stream_events(request, gateway.events, stopping)

    async def end_streams(app: web.Application) -> None:
        """An event stream never ends by itself: end them, or shutting down waits for them."""
        stopping.set()

    async def usage(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "stage": stage_usage(gateway.stage_throttle),
                "usagePlans": plan_usage(gateway.usage_plans),
            }
        )

    app.on_shutdown.append(end_streams)
    app.router.add_get(f"{ADMIN_PREFIX}/connections", connections)
    app.router.add_get(f"{ADMIN_PREFIX}/events", events)
    app.router.add_get(f"{ADMIN_PREFIX}/usage", usage)
    mount_reload(app, gateway)
