"""Prune in pages, in parallel, within the deadline, resumable: a big backlog is emptied across
runs instead of timing out with nothing deleted.

DynamoDB is moto's server (reached over HTTP by aiobotocore, as in Lambda); the 100,000 stale
records are written straight into moto's in-process backend, the same state the server
serves, because loading them through BatchWriteItem takes several times longer (numbers in the
module's ``load_records`` docstring). The @connections checks go to a real HTTP endpoint that
answers each GET after an injected delay.

The Lambda's deadline comes from ``context.get_remaining_time_in_millis()``:
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from chalice_app.chalicelib import ops
from chalice_app.chalicelib.ops import OpsConfig
from chalice_app.chalicelib.prune import (
    CHECK_CONCURRENCY,
    PAGE_SIZE,
    decode_resume,
    encode_resume,
    prune_table,
    should_stop,
)
from shared.connection_store import ConnectionStore
from shared.names import StackNames
from tests.support.connections_endpoint import ConnectionsEndpoint, served_in_thread
from tests.support.moto import REGION, client, create_connections_table

STALE = 100_000
GONE = 300
LIVE = 40
CHECK_DELAY_S = 0.05


class SlowEndpoint(ConnectionsEndpoint):
    """@connections whose GET (the liveness check) takes ``CHECK_DELAY_S``, like a far API."""

    async def _get(self, request: web.Request) -> web.Response:
        await asyncio.sleep(CHECK_DELAY_S)
        return await super()._get(request)


class Deadline:
    """A Lambda context whose remaining time runs out ``budget_s`` after creation."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return int((self.budget_s - (time.monotonic() - self.started)) * 1000)


@pytest.fixture
def endpoint() -> Iterator[SlowEndpoint]:
    with served_in_thread(SlowEndpoint(stage="prod")) as server:
        yield server


@pytest.fixture
def env(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    return aws_endpoint


def load_records(table: str, ids: list[str], expires_at: int) -> None:
    """Write records into moto's backend directly.

    Measured on the 2-core dev box: 100,000 records take ~2.5 s this way and ~20 s through
    the server's BatchWriteItem (10,000 took 2.0 s).
    """
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    for cid in ids:
        item = {
            "connectionId": {"S": cid},
            "userId": {"S": "u"},
            "expiresAt": {"N": str(expires_at)},
        }
        backend.put_item(table, item)


def _config(table: str, endpoint: SlowEndpoint, aws_endpoint: str) -> OpsConfig:
    return OpsConfig(REGION, table, endpoint.url, None, dynamodb_endpoint=aws_endpoint)


def _remaining_ids(aws_endpoint: str, table: str) -> set[str]:
    paginator = client("dynamodb", aws_endpoint).get_paginator("scan")
    return {
        item["connectionId"]["S"]
        for page in paginator.paginate(TableName=table, ProjectionExpression="connectionId")
        for item in page["Items"]
    }


@pytest.mark.timeout(900)  # ~50 s on an idle 2-core box; several times that under shared load
def test_a_100k_backlog_is_emptied_across_runs_each_within_its_deadline(
    env: str, endpoint: SlowEndpoint
) -> None:
    table = f"prune-big-{time.monotonic_ns()}"
    create_connections_table(env, table)
    load_records(table, [f"stale-{i:06d}=" for i in range(STALE)], expires_at=1)
    future = int(time.time()) + 3600
    load_records(table, [f"gone-{i:04d}=" for i in range(GONE)], expires_at=future)
    live = [f"live-{i:03d}=" for i in range(LIVE)]
    load_records(table, live, expires_at=future)
    endpoint.open_ids.update(live)
    config = _config(table, endpoint, env)

    budget_s, runs, resume = 5.0, [], None  # a short first run, then 10 s runs
    totals = {"deleted": 0, "expired": 0, "gone": 0, "checked": 0, "interrupted": 0}
    while True:
        event: dict[str, Any] = {"action": "prune"}
        if resume:
            event["resume"] = resume
        started = time.monotonic()
        result = ops.run(event, config, context=Deadline(budget_s))
        elapsed = time.monotonic() - started
        assert "error" not in result, result
        assert elapsed < budget_s, (elapsed, result)  # stopped before the deadline
        assert result["deleted"] > 0 or result["complete"], result  # every run makes progress
        runs.append((round(elapsed, 2), result["deleted"], result["pages"]))
        for key in totals:
            totals[key] += result[key]
        resume, budget_s = result["resume"], 10.0
        if result["complete"]:
            break
        assert resume, result
        assert len(runs) < 200, runs
    print(f"prune runs (elapsed s, deleted, pages): {runs}")
    assert len(runs) > 1  # the first short run could not finish, and said where it stopped
    # A page abandoned at the deadline may have had deletes land whose answers never came
    # back: counts are exact without interruptions and at most a page short per interruption.
    lost = PAGE_SIZE * totals["interrupted"]
    assert STALE + GONE - lost <= totals["deleted"] <= STALE + GONE, totals
    assert totals["expired"] + totals["gone"] == totals["deleted"], totals
    assert GONE - lost <= totals["gone"] <= GONE, totals
    assert totals["checked"] >= GONE + LIVE, totals
    assert _remaining_ids(env, table) == set(live)


def test_scheduled_prune_keeps_its_position_in_ssm(
    env: str, endpoint: SlowEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = f"prune{time.monotonic_ns()}"
    monkeypatch.setenv("WSGATE_STACK_NAME", stack)
    table = f"prune-ssm-{time.monotonic_ns()}"
    create_connections_table(env, table)
    # Enough that no 3 s run finishes them all, however fast the machine (about 2,000/s here).
    load_records(table, [f"s-{i:05d}=" for i in range(30000)], expires_at=1)
    config = OpsConfig(
        REGION, table, endpoint.url, None, dynamodb_endpoint=env, names=StackNames(stack)
    )
    parameter = StackNames(stack).prune_resume_parameter
    ssm = client("ssm", env)
    results = []
    for _ in range(100):
        results.append(ops.run({"action": "prune", "persistResume": True}, config, Deadline(3.0)))
        if results[-1]["complete"]:
            break
        # An unfinished run that got anywhere says where it stopped.
        assert results[-1]["resume"] or results[-1]["pages"] == 0, results[-1]
        stored = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        assert stored == (results[-1]["resume"] or ops.RESUME_START)
    assert len(results) > 1 and results[-1]["complete"]
    # Deletes of a page abandoned at the deadline may land uncounted (at most a page each).
    interrupted = sum(r["interrupted"] for r in results)
    assert 30000 - PAGE_SIZE * interrupted <= sum(r["deleted"] for r in results) <= 30000
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == ops.RESUME_START
    assert _remaining_ids(env, table) == set()


def test_a_run_stops_before_its_deadline_with_its_position(
    env: str, endpoint: SlowEndpoint
) -> None:
    """2,000 records whose liveness must be checked (50 ms each, 32 at a time: over 3 s of
    checks) and a 4 s budget of which setup takes part: the run must stop in time."""
    table = f"prune-deadline-{time.monotonic_ns()}"
    create_connections_table(env, table)
    load_records(table, [f"g-{i:04d}=" for i in range(2000)], expires_at=int(time.time()) + 600)
    started = time.monotonic()
    result = ops.run({"action": "prune"}, _config(table, endpoint, env), Deadline(4.0))
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, (elapsed, result)
    assert not result["complete"] and result["deleted"] < 2000, result
    assert result["resume"] or result["pages"] == 0 or result["interrupted"], result


async def test_checks_within_a_page_run_concurrently_and_bounded(env: str) -> None:
    table = f"prune-conc-{time.monotonic_ns()}"
    create_connections_table(env, table)
    load_records(table, [f"c-{i:03d}=" for i in range(200)], expires_at=int(time.time()) + 600)
    in_flight, peak = 0, 0

    async def is_gone(connection_id: str) -> bool:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return connection_id.endswith("0=")

    async with ConnectionStore(table, region=REGION, endpoint_url=env) as store:
        progress = await prune_table(store.client, table, is_gone, lambda: 60.0)
    assert peak == CHECK_CONCURRENCY  # 200 checks, 32 at a time: concurrent and bounded
    assert (progress.checked, progress.gone, progress.complete) == (200, 20, True)
    assert len(_remaining_ids(env, table)) == 180


def test_should_stop_keeps_the_margin_and_the_next_page_in_hand() -> None:
    assert not should_stop(remaining_s=10.0, next_page_s=2.0, margin_s=5.0)
    assert should_stop(remaining_s=6.9, next_page_s=2.0, margin_s=5.0)
    assert should_stop(remaining_s=4.0, next_page_s=0.0, margin_s=5.0)


@pytest.mark.parametrize(
    "token", ["not base64!", encode_resume({"other": {"S": "x"}}), encode_resume({"a": 1})[:-4]]
)
def test_a_foreign_resume_token_is_a_clear_error(
    env: str, endpoint: SlowEndpoint, token: str
) -> None:
    table = f"prune-bad-{time.monotonic_ns()}"
    create_connections_table(env, table)
    result = ops.run({"action": "prune", "resume": token}, _config(table, endpoint, env))
    assert result == {"error": "resume token is not one a prune run returned"}


def test_resume_tokens_round_trip() -> None:
    key = {"connectionId": {"S": "abc="}}
    assert decode_resume(encode_resume(key)) == key
