"""Token buckets and usage-plan quotas as pure logic, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

from wsgate.gateway.throttling import Quota, TokenBucket, quota_window


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock(0.0)
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 0.5  # one token back at 2/s
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now = 100.0  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_zero_limits_refuse_everything_like_aws() -> None:
    assert not TokenBucket(burst=0, rate=0.0, clock=Clock(0.0)).take()


def test_monthly_quota_resets_on_the_first_of_the_utc_month_not_30_days_later() -> None:
    clock = Clock(_at("2026-01-31T23:59:00"))
    quota = Quota(limit=2, period="MONTH", clock=clock)
    assert [quota.take(), quota.take(), quota.take()] == [True, True, False]
    clock.now = _at("2026-02-01T00:00:01")  # a minute later, a new month
    assert quota.take()
    clock.now = _at("2026-02-28T23:00:00")
    assert [quota.take(), quota.take()] == [True, False]


def test_offset_is_spent_in_the_first_period_only() -> None:
    clock = Clock(_at("2026-03-10T12:00:00"))
    quota = Quota(limit=3, period="DAY", offset=2, clock=clock)
    assert [quota.take(), quota.take()] == [True, False]
    clock.now = _at("2026-03-11T00:00:00")
    assert [quota.take() for _ in range(4)] == [True, True, True, False]


def test_windows_follow_the_utc_calendar() -> None:
    saturday, sunday = _at("2026-11-28T23:59:59"), _at("2026-11-29T00:00:00")
    assert quota_window("WEEK", saturday) != quota_window("WEEK", sunday)
    assert quota_window("WEEK", sunday) == quota_window("WEEK", _at("2026-12-05T23:00:00"))
    assert quota_window("DAY", saturday) != quota_window("DAY", sunday)
    assert quota_window("MONTH", saturday) == quota_window("MONTH", sunday)
