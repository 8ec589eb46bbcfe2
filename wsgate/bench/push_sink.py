"""A ``@connections`` sink with a set round trip, for comparing push clients.

It answers every ``POST /{stage}/@connections/{id}`` with 200 after ``--delay-ms``, so a push
client can be measured against loopback (CPU-bound) and against the tens of milliseconds
a real ``@connections`` call takes from EC2 (latency-bound), in its own process. Like API
Gateway, it checks each request's SigV4 signature (the local gateway's check, against the local
credentials the push clients use), so a client that stopped signing fails the bench instead of
being measured; ``--unsigned`` turns the check off.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from wsgate.gateway.sigv4 import SigV4Verifier, refused
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

REGION = "us-east-1"


def build_app(delay_s: float, signed: bool = True) -> web.Application:
    verifier = (
        SigV4Verifier(
            {LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]: LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]},
            REGION,
        )
        if signed
        else None
    )

    received = {"posts": 0}

    async def post(request: web.Request) -> web.Response:
        if (denied := await refused(request, verifier)) is not None:
            return denied
        await request.read()
        if delay_s:
            await asyncio.sleep(delay_s)
        received["posts"] += 1
        return web.Response(status=200)

    async def count(request: web.Request) -> web.Response:
        """How many pushes arrived: the capacity bench checks nothing was lost."""
        return web.json_response(received)

    app = web.Application()
    app.router.add_post("/{stage}/@connections/{id}", post)
    app.router.add_get("/count", count)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--unsigned", action="store_true", help="do not check signatures")
    args = parser.parse_args()
    web.run_app(
        build_app(args.delay_ms / 1000, signed=not args.unsigned),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=lambda _: print("ready", flush=True),
    )


if __name__ == "__main__":
    main()
