"""Which push client the service should use, measured: pushes/s for one fan-out of N.

Issue 3 leaves the choice between aiobotocore and a bounded thread pool around boto3 to a
measurement. Each client pushes the same N frames to a sink (``wsgate.bench.push_sink``, its own
process) answering after a set delay: 0 ms shows the CPU cost per push (loopback), 10 ms the
latency-bound case of a real ``@connections`` call, where bounded concurrency pays.

- ``wsgate``: :class:`shared.connections_api.ConnectionsApi` as the service runs it
  (botocore's SigV4 signer on aiohttp, botocore client for retries), 64 in flight;
- ``wsgate_one_by_one``: the same with concurrency 1;
- ``aiobotocore``: ``post_to_connection`` on an aiobotocore client, 64 in flight;
- ``boto3_threads``: ``post_to_connection`` on one boto3 client in a 64-thread pool.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.config import Config

from shared.connection_store import RETRIES
from shared.connections_api import ConnectionsApi
from wsgate.bench.processes import Server
from wsgate.local.aws_resources import LOCAL_CREDENTIALS
from wsgate.local.processes import free_port

REGION = "us-east-1"
IN_FLIGHT = 64
WARM_UP = 5
FRAME = b'{"type":"message","room":"bench","from":"alice","message":"hello"}'
CREDENTIALS = {
    "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
}


def _session() -> AioSession:
    session = get_session()
    session.set_credentials(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])
    return session


async def _timed(push_all: Callable[[list[str]], Awaitable[object]], ids: list[str]) -> float:
    """Seconds for ``push_all(ids)`` after a warm-up (credentials, keep-alive connections)."""
    await push_all(ids[:WARM_UP])
    started = time.perf_counter()
    await push_all(ids)
    return time.perf_counter() - started


async def wsgate(endpoint: str, ids: list[str], concurrency: int) -> float:
    async with ConnectionsApi(
        endpoint, region=REGION, concurrency=concurrency, session=_session()
    ) as api:

        async def push_all(batch: list[str]) -> None:
            result = await api.fan_out(batch, FRAME)
            if result.delivered != len(batch):
                raise RuntimeError(f"delivered {result.delivered} of {len(batch)}")

        return await _timed(push_all, ids)


async def aiobotocore(endpoint: str, ids: list[str]) -> float:
    config = AioConfig(retries=RETRIES, max_pool_connections=IN_FLIGHT)
    async with _session().create_client(
        "apigatewaymanagementapi", region_name=REGION, endpoint_url=endpoint, config=config
    ) as client:
        semaphore = asyncio.Semaphore(IN_FLIGHT)

        async def push(connection_id: str) -> None:
            async with semaphore:
                await client.post_to_connection(ConnectionId=connection_id, Data=FRAME)

        async def push_all(batch: list[str]) -> None:
            await asyncio.gather(*(push(cid) for cid in batch))

        return await _timed(push_all, ids)


async def boto3_threads(endpoint: str, ids: list[str]) -> float:
    config = Config(retries=RETRIES, max_pool_connections=IN_FLIGHT)
    client = boto3.client(
        "apigatewaymanagementapi",
        region_name=REGION,
        endpoint_url=endpoint,
        config=config,
        **CREDENTIALS,
    )
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:

        async def push(connection_id: str) -> None:
            await loop.run_in_executor(
                pool, lambda: client.post_to_connection(ConnectionId=connection_id, Data=FRAME)
            )

        async def push_all(batch: list[str]) -> None:
            await asyncio.gather(*(push(cid) for cid in batch))

        return await _timed(push_all, ids)


async def wsgate_bounded(endpoint: str, ids: list[str]) -> float:
    return await wsgate(endpoint, ids, IN_FLIGHT)


async def wsgate_one_by_one(endpoint: str, ids: list[str]) -> float:
    return await wsgate(endpoint, ids, 1)


CLIENTS: dict[str, tuple[int, Callable[[str, list[str]], Awaitable[float]]]] = {
    "wsgate": (IN_FLIGHT, wsgate_bounded),
    "wsgate_one_by_one": (1, wsgate_one_by_one),
    "aiobotocore": (IN_FLIGHT, aiobotocore),
    "boto3_threads": (IN_FLIGHT, boto3_threads),
}
"""Client name -> (pushes in flight, push N ids and return the seconds it took)."""


async def compare(n: int, delays_ms: tuple[float, ...]) -> dict[str, dict[str, Any]]:
    """``push_{client}_rtt{D}ms``: pushes/s and total ms, every client against every delay."""
    ids = [f"conn{i:06d}=" for i in range(n)]
    results: dict[str, dict[str, Any]] = {}
    for delay in delays_ms:
        port = free_port()
        argv = [sys.executable, "-m", "wsgate.bench.push_sink", "--port", str(port)]
        sink = await Server.start([*argv, "--delay-ms", str(delay)], port, "ready")
        endpoint = f"http://127.0.0.1:{port}/prod"
        try:
            for name, (in_flight, run) in CLIENTS.items():
                seconds = await run(endpoint, ids)
                results[f"push_{name}_rtt{delay:g}ms"] = {
                    "pushes": n,
                    "in_flight": in_flight,
                    "push_rtt_ms": delay,
                    "total_ms": seconds * 1000,
                    "pushes_per_s": n / seconds,
                    "lost": 0,
                }
        finally:
            await sink.stop()
    return results
