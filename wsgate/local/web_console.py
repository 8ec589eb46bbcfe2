"""The browser chat page and the development-token endpoint it logs in with.

Served on its own port, not by the local gateway: API Gateway serves no web pages, and keeping
the gateway faithful matters more than one port fewer. ``/dev/token`` exists only in the local
stack; in AWS, tokens come from your identity provider.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from shared.names import USER_ID_PATTERN
from wsgate.local.dev_panel import DevPanel

WEB_ROOT = Path(__file__).parent / "web"
USER_PATTERN = USER_ID_PATTERN

MintToken = Callable[[str], str]


def create_web_console(
    websocket_url: str, mint_token: MintToken, panel: DevPanel | None = None
) -> web.Application:
    """An aiohttp app serving the chat page, minting development tokens, and the dev panel."""

    async def dev_token(request: web.Request) -> web.Response:
        user = request.query.get("user", "")
        if not USER_PATTERN.match(user):
            return web.json_response(
                {"message": "user must be 1-32 characters of letters, digits, '_' or '-'"},
                status=400,
            )
        return web.json_response({"token": mint_token(user), "websocketUrl": websocket_url})

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_ROOT / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/dev/token", dev_token)
    if panel is not None:
        panel.add_routes(app)
    app.router.add_static("/", WEB_ROOT, show_index=False)
    return app
