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
from shared.names import SERVICE_PORT


def serve(host: str = "0.0.0.0", port: int = SERVICE_PORT, workers: int | None = None) -> None:
    """Start Sanic with ``workers`` processes (default: one per CPU)."""
    workers = workers or os.cpu_count() or 1
    try:
        settings = load_settings()
    except SettingsError as error:  # one line naming the variable, not a traceback
        sys.exit(f"wsgate service: {error}")
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=host,
        port=port,
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
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
