"""The physical baseline: a bare ``websockets`` echo server and room broadcaster.

Run as ``python -m wsgate.bench.baseline --port P`` in its own process, like the gateway.
Anything the gateway adds (routing, templates, HTTP hops) shows up as a ratio against these.
"""

from __future__ import annotations

import argparse
import asyncio

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(connection: ServerConnection) -> None:
    """``echo`` path echoes; ``/room`` broadcasts each message to every connected client."""
    CLIENTS.add(connection)
    try:
        room = connection.request is not None and connection.request.path.startswith("/room")
        async for message in connection:
            if room:
                broadcast(CLIENTS, message)
            else:
                await connection.send(message)
    finally:
        CLIENTS.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=2**20):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
