"""``python -m wsgate.bench.delay_proxy``: an HTTP hop with a fixed round trip, in its own process.

On loopback DynamoDB (moto) and ``@connections`` answer in a fraction of a millisecond; from
EC2 they take milliseconds. The capacity bench puts this proxy in front of each local endpoint
so the service waits as long as in production, while its own CPU is measured unchanged: the
delay is spent here, not faked inside the service. It keeps the caller's connections alive
(DynamoDB and API Gateway do; moto's werkzeug server closes every connection), forwards the
request as is (the signature is not checked upstream) and answers with the upstream's answer.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web

HOP_BY_HOP = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"}
)
"""Headers that describe one connection, not the message: never forwarded."""


def build_app(upstream: str, delay_s: float) -> web.Application:
    base = upstream.rstrip("/")
    client: dict[str, aiohttp.ClientSession] = {}

    async def open_client(app: web.Application) -> None:
        client["session"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
        )

    async def close_client(app: web.Application) -> None:
        await client["session"].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        if delay_s:
            await asyncio.sleep(delay_s)
        async with client["session"].request(
            request.method, base + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            passed = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(body=payload, status=answer.status, headers=passed)

    app = web.Application(client_max_size=2**24)
    app.on_startup.append(open_client)
    app.on_cleanup.append(close_client)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(
        build_app(args.upstream, args.delay_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=lambda _: print("ready", flush=True),
    )


if __name__ == "__main__":
    main()
