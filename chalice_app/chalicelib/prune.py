"""Prune the connections table page by page, within the Lambda's deadline, resumably.

A record is stale when it is past ``expiresAt`` (DynamoDB's TTL deletes it, but up to days
late) or when API Gateway says its connection is gone (``$disconnect`` is best-effort). Checking
a record costs one ``@connections`` GET, so a backlog of thousands cannot be checked one at a
time inside a Lambda timeout: each scan page is checked concurrently (bounded), its stale
records are deleted before the next page is read, and the run stops before the deadline with a
``resume`` token (the scan's ``LastEvaluatedKey``) so the next run continues where this one
stopped. Every run makes progress; none ends with nothing deleted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.connections_table import PARTITION_KEY, TTL_ATTRIBUTE

PAGE_SIZE = 1000
"""Largest scan page: small enough that one page's checks fit well inside the margin."""
FIRST_PAGE_SIZE = 100
"""Pages start small and double: the first pages measure what a page costs before a big one
is risked close to the deadline."""
CHECK_CONCURRENCY = 32
"""@connections GETs in flight at once (API Gateway's management API is rate limited)."""
DELETE_BATCH = 25
"""BatchWriteItem's maximum number of requests."""
SAFETY_MARGIN_S = 5.0
"""Time kept in hand at the deadline to report and store the resume token."""
MARGIN_SHARE = 0.25
"""With a short budget, the margin is at most this share of it (a 3 s budget keeps 0.75 s)."""

IsGone = Callable[[str], Awaitable[bool]]
Remaining = Callable[[], float]


class ResumeTokenError(ValueError):
    """A ``resume`` value this function did not produce (pass back the one a run returned)."""


@dataclass
class PruneProgress:
    """What one run did; ``resume`` is None once the whole table has been covered.

    Counts are exact unless ``interrupted``: deletes of an abandoned page whose answers never
    arrived are not counted (they may have landed), and its checks are repeated next run.
    """

    pages: int = 0
    scanned: int = 0
    checked: int = 0
    expired: int = 0
    gone: int = 0
    deleted: int = 0
    resume: str | None = None
    complete: bool = False
    interrupted: bool = False
    """A page ran past its estimate and was abandoned before the deadline (rescanned next run)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def encode_resume(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_resume(token: str) -> dict[str, Any]:
    """The scan position in ``token``; only a ``connectionId`` key is ever a valid position."""
    try:
        key: Any = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ResumeTokenError("resume token is not one a prune run returned") from None
    valid = (
        isinstance(key, dict)
        and set(key) == {PARTITION_KEY}
        and isinstance(key[PARTITION_KEY], dict)
        and set(key[PARTITION_KEY]) == {"S"}
        and isinstance(key[PARTITION_KEY]["S"], str)
    )
    if not valid:
        raise ResumeTokenError("resume token is not one a prune run returned")
    return dict(key)


def should_stop(remaining_s: float, next_page_s: float, margin_s: float) -> bool:
    """Stop when the next page (as estimated by the caller) would eat into the margin."""
    return remaining_s - margin_s < next_page_s


async def _check_page(
    items: list[dict[str, Any]],
    now_s: int,
    is_gone: IsGone,
    concurrency: int,
    progress: PruneProgress,
) -> tuple[list[str], set[str]]:
    """The page's stale ids (expired first) and which of them are gone rather than expired."""
    expired: list[str] = []
    to_check: list[str] = []
    for item in items:
        connection_id = item[PARTITION_KEY]["S"]
        expires = item.get(TTL_ATTRIBUTE, {}).get("N")
        if expires is not None and int(expires) < now_s:
            expired.append(connection_id)
        else:
            to_check.append(connection_id)
    semaphore = asyncio.Semaphore(concurrency)

    async def check(connection_id: str) -> bool:
        async with semaphore:
            verdict = await is_gone(connection_id)
        progress.checked += 1
        return verdict

    verdicts = await asyncio.gather(*(check(cid) for cid in to_check))
    gone = [cid for cid, is_stale in zip(to_check, verdicts, strict=True) if is_stale]
    return expired + gone, set(gone)


async def _delete(
    dynamodb: Any, table: str, ids: list[str], gone: set[str], progress: PruneProgress
) -> None:
    """BatchWriteItem in chunks of 25, concurrently; unprocessed items are retried. Progress
    counts each chunk as it lands, so an interrupted page still reports what it deleted."""

    async def chunk(part: list[str]) -> None:
        requests = [{"DeleteRequest": {"Key": {PARTITION_KEY: {"S": cid}}}} for cid in part]
        pending: dict[str, Any] = {table: requests}
        for attempt in range(8):
            response = await dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError(f"DynamoDB left {len(pending[table])} deletes unprocessed")
        gone_here = sum(1 for cid in part if cid in gone)
        progress.gone += gone_here
        progress.expired += len(part) - gone_here
        progress.deleted += len(part)

    parts = [ids[i : i + DELETE_BATCH] for i in range(0, len(ids), DELETE_BATCH)]
    semaphore = asyncio.Semaphore(8)

    async def bounded(part: list[str]) -> None:
        async with semaphore:
            await chunk(part)

    await asyncio.gather(*(bounded(part) for part in parts))


async def _page(
    dynamodb: Any,
    request: dict[str, Any],
    now_s: int,
    is_gone: IsGone,
    concurrency: int,
    progress: PruneProgress,
) -> tuple[int, dict[str, Any] | None]:
    """Scan one page, check it, delete its stale records; (records, next start key)."""
    page = await dynamodb.scan(**request)
    items = page.get("Items", [])
    progress.scanned += len(items)
    stale, gone = await _check_page(items, now_s, is_gone, concurrency, progress)
    await _delete(dynamodb, request["TableName"], stale, gone, progress)
    return len(items), page.get("LastEvaluatedKey")


async def prune_table(
    dynamodb: Any,
    table: str,
    is_gone: IsGone,
    remaining_s: Remaining,
    *,
    resume: str | None = None,
    now_s: int | None = None,
    page_size: int = PAGE_SIZE,
    concurrency: int = CHECK_CONCURRENCY,
    margin_s: float | None = None,
) -> PruneProgress:
    """Prune from ``resume`` (or the start) until the table is covered or the deadline nears.

    Two guards keep the run inside the deadline: a page is not started when a page of its size
    (at the slowest per-record cost of the last three pages) would not fit before the margin,
    and a page that runs
    late anyway is abandoned half a margin before the deadline; the next run rescans it
    (deletes are idempotent).
    """
    now_s = int(time.time()) if now_s is None else now_s
    if margin_s is None:
        margin_s = min(SAFETY_MARGIN_S, MARGIN_SHARE * max(remaining_s(), 0.0))
    progress = PruneProgress()
    start_key = decode_resume(resume) if resume else None
    recent: list[float] = []  # seconds per record of the last pages
    size = min(FIRST_PAGE_SIZE, page_size)
    while not should_stop(remaining_s(), max(recent, default=0.0) * size, margin_s):
        began = time.monotonic()
        request: dict[str, Any] = {
            "TableName": table,
            "Limit": size,
            "ProjectionExpression": "#pk, #ttl",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE},
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        try:
            async with asyncio.timeout(remaining_s() - margin_s / 2):
                count, next_key = await _page(
                    dynamodb, request, now_s, is_gone, concurrency, progress
                )
        except TimeoutError:
            progress.interrupted = True
            break
        progress.pages += 1
        recent = [*recent[-2:], (time.monotonic() - began) / max(count, 1)]
        size = min(size * 2, page_size)
        start_key = next_key
        if not start_key:
            progress.complete = True
            return progress
    progress.resume = encode_resume(start_key) if start_key else None
    return progress
