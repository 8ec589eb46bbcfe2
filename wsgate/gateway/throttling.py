"""Token buckets and quotas: stage/route throttling and usage plans, with an injectable clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wsgate.gateway import api_key_store
from wsgate.gateway.template_loader import Throttle, UsagePlan

Clock = Callable[[], float]


def quota_window(period: str, now: float) -> str:
    """The calendar window (UTC) that ``now`` falls in: quotas reset at its boundary.

    AWS documents DAY, WEEK and MONTH periods but not the week's first day; UNCONFIRMED
    choice: weeks start on Sunday, as the older ``offset`` documentation ("an offset of 0
    starts on Sunday") implies.
    """
    moment = datetime.fromtimestamp(now, UTC)
    if period == "DAY":
        return moment.strftime("%Y-%m-%d")
    if period == "WEEK":
        sunday = moment - timedelta(days=(moment.weekday() + 1) % 7)
        return "W" + sunday.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m")


@dataclass
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second. 0/0 refuses everything, like AWS."""

    burst: int
    rate: float
    clock: Clock = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Quota:
    """Requests per calendar period (UTC), ``offset`` of them already spent in the first one.

    ``offset`` is the current API reference's meaning: "the number of requests subtracted from
    the given limit in the initial time period".
    """

    limit: int
    period: str = "MONTH"
    offset: int = 0
    clock: Clock = time.time
    used: int = 0
    window: str | None = None
    first_window: str | None = None

    def take(self) -> bool:
        window = quota_window(self.period, self.clock())
        if self.first_window is None:
            self.first_window = window
        if window != self.window:
            self.window = window
            self.used = self.offset if window == self.first_window else 0
        if self.used >= self.limit:
            return False
        self.used += 1
        return True


class KeyVerdict:
    OK = "ok"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    QUOTA = "quota"


class UsagePlans:
    """API keys of the stage's usage plans, each with its own bucket and quota."""

    def __init__(
        self,
        plans: list[UsagePlan],
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        store: api_key_store.ApiKeyStore | None = None,
    ) -> None:
        self._plan_of: dict[str, UsagePlan] = {}
        for plan in plans:
            for key in plan.key_values:
                self._plan_of[key] = plan
        self._plans_by_name = {plan.name: plan for plan in plans}
        self._store = store if store is not None else api_key_store.from_environment()
        self._buckets: dict[str, TokenBucket] = {}
        self._quotas: dict[str, Quota] = {}
        self._clock = clock
        self._wall_clock = wall_clock

    def check(self, key: str | None) -> str:
        """Whether a ``$connect`` presenting ``key`` may proceed (keys are per-key limited)."""
        if not key or (key not in self._plan_of and not self._runtime_key(key)):
            return KeyVerdict.FORBIDDEN
        plan = self._plan_of[key]
        if plan.throttle is not None:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(plan.throttle.burst, plan.throttle.rate, self._clock)
                self._buckets[key] = bucket
            if not bucket.take():
                return KeyVerdict.THROTTLED
        if plan.quota_limit is not None:
            quota = self._quotas.get(key)
            if quota is None:
                quota = Quota(
                    plan.quota_limit,
                    plan.quota_period or "MONTH",
                    plan.quota_offset,
                    self._wall_clock,
                )
                self._quotas[key] = quota
            if not quota.take():
                return KeyVerdict.QUOTA
        return KeyVerdict.OK

    def keys_of(self, plan: UsagePlan) -> list[str]:
        """Every key known to be in ``plan``: the template's and those found at runtime."""
        return sorted(key for key, owner in self._plan_of.items() if owner is plan)

    def _runtime_key(self, key: str) -> bool:
        """A key created after the template was loaded, found in one of the stage's plans."""
        if self._store is None:
            return False
        for name in sorted(self._store.plan_names(key)):
            if name in self._plans_by_name:
                self._plan_of[key] = self._plans_by_name[name]
                return True
        return False


class StageThrottle:
    """Default route throttling plus per-route overrides (``RouteSettings``)."""

    def __init__(
        self,
        default: Throttle | None,
        per_route: dict[str, Throttle],
        clock: Clock = time.monotonic,
    ) -> None:
        self._default = TokenBucket(default.burst, default.rate, clock) if default else None
        self._routes = {k: TokenBucket(t.burst, t.rate, clock) for k, t in per_route.items()}

    def allow(self, route_key: str) -> bool:
        bucket = self._routes.get(route_key, self._default)
        return bucket is None or bucket.take()
