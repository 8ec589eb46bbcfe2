"""The gateway's listening socket: aiohttp's HTTP server, refusing malformed requests quietly.

aiohttp answers a request it cannot parse (a header line over its size limit, bytes HTTP
forbids) with a text body quoting the start of the offending line, and logs a traceback. A
header may carry a token: the gateway refuses such requests as it refuses any oversized or
malformed handshake (``errors.HANDSHAKE_BODIES``), without echoing or logging the content.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from wsgate.gateway import errors, limits

log = logging.getLogger(__name__)

HANDLER_OPTIONS: dict[str, Any] = {
    "access_log": None,
    # Above the gateway's own limit, so that the gateway (not aiohttp) answers oversized heads.
    "max_line_size": 4 * limits.HEADER_LIMIT_BYTES,
    "max_field_size": 4 * limits.HEADER_LIMIT_BYTES,
}


class EdgeRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, with parse errors answered without their content."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        code = errors.HEADERS_TOO_LARGE_STATUS if isinstance(exc, LineTooLong) else 400
        log.warning("refused an unparseable HTTP request (%s, %d)", type(exc).__name__, code)
        response = web.json_response({"message": errors.HANDSHAKE_BODIES[code]}, status=code)
        response.force_close()
        return response


async def listen(runner: web.AppRunner, host: str, port: int) -> asyncio.Server:
    """Serve ``runner``'s application on ``host:port`` through :class:`EdgeRequestHandler`."""
    server = runner.server
    if server is None:
        raise RuntimeError("call runner.setup() before listen()")
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: EdgeRequestHandler(server, loop=loop, **HANDLER_OPTIONS), host, port
    )
