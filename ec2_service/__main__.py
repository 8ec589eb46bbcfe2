"""``python -m ec2_service``: run the service (what the systemd unit starts on each instance)."""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from ec2_service.app import create_app
from ec2_service.settings import SettingsError, load_settings
from ec2_service.socket_handoff import HandoffError, inherited_socket, notify_ready
from shared.names import SERVICE_PORT


def serve(
    host: str = "0.0.0.0",
    port: int = SERVICE_PORT,
    workers: int | None = None,
    fd: int | None = None,
) -> None:
    """Start Sanic with ``workers`` processes (default: one per CPU), on the listening socket
    inherited at ``fd`` when given (one process only: Sanic's worker manager shuts a socket
    down for every process holding it)."""
    workers = workers or os.cpu_count() or 1
    try:
        settings = load_settings()
        sock = None if fd is None else inherited_socket(fd)
    except (SettingsError, HandoffError) as error:  # one line naming the cause, not a traceback
        sys.exit(f"wsgate service: {error}")
    if sock is not None and workers != 1:
        sys.exit("wsgate service: --fd serves one process; drop --workers or --fd")
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()

    @app.after_server_start
    async def ready(*_: object) -> None:
        notify_ready()

    app.prepare(
        host=None if sock else host,
        port=None if sock else port,
        sock=sock,
        workers=workers,
        single_process=workers == 1,
        access_log=False,
        motd=False,
    )
    if workers == 1:
        Sanic.serve_single(primary=app)  # no worker manager: one process, signals handled here
    else:
        Sanic.serve(primary=app, app_loader=loader)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ec2_service", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=SERVICE_PORT)
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count")
    parser.add_argument(
        "--fd", type=int, default=None, help="serve on this inherited listening socket instead"
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers, args.fd)


if __name__ == "__main__":
    main()
