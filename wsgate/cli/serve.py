"""``wsgate serve``: run the Sanic service; the logic lives in ``ec2_service``."""

from __future__ import annotations

import click

from shared.names import SERVICE_PORT


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=int, default=SERVICE_PORT, show_default=True)
@click.option("--workers", type=int, default=None, help="Worker processes (default: CPU count).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the integration service (configuration from WSGATE_* environment variables)."""
    from ec2_service.__main__ import serve as run

    run(host, port, workers)
