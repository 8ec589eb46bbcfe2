"""``wsgate gateway``: run the local API Gateway stand-in; the logic lives in ``wsgate.gateway``."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from shared.names import GATEWAY_PORT
from wsgate.cli.template_parameters import check_parameters, parse_parameters
from wsgate.cli.validation import check_http_url
from wsgate.fd_limit import raise_fd_limit


def _credentials(pairs: tuple[str, ...]) -> dict[str, str]:
    accepted = {}
    for pair in pairs:
        key, sep, secret = pair.partition(":")
        if not sep or not key or not secret:
            raise click.BadParameter(
                f"expected ACCESS_KEY_ID:SECRET, got {pair!r}",
                param_hint="--connections-credentials",
            )
        accepted[key] = secret
    return accepted


def vpc_link_integrations(document: Mapping[str, Any]) -> list[str]:
    """Logical ids of the template's integrations that reach their backend through a VPC link."""
    resources: Mapping[str, Any] = document.get("Resources") or {}
    return [
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::ApiGatewayV2::Integration"
        and (resource.get("Properties") or {}).get("ConnectionType") == "VPC_LINK"
    ]


def check_template_flags(template: Path, backend: str | None, parameters: dict[str, str]) -> None:
    """Refuse, before listening, what would make every request fail: parameters the template
    rejects, and VPC-link integrations with no --backend (their NLB is not reachable here)."""
    from wsgate.gateway.template_yaml import read_template

    document = read_template(template)
    check_parameters(document, parameters)
    if backend is not None:
        check_http_url(backend, "--backend")
    elif linked := vpc_link_integrations(document):
        raise click.UsageError(
            f"--backend is required: {template} sends {len(linked)} route(s) through a VPC "
            "link (an NLB this machine cannot reach); pass --backend http://127.0.0.1:8080"
        )


def _announce(running: Any, accepted: Mapping[str, str] | None, admin: bool) -> None:
    """What is served where, on stderr once the gateway listens."""
    api = running.gateway.api
    click.echo(f"wsgate gateway: {api.name} on {running.url}", err=True)
    for key in api.mapping_keys:
        click.echo(f"  custom domain mapping: ws://127.0.0.1:{running.port}/{key}", err=True)
    click.echo(f"  @connections: {running.connections_url}/@connections/{{id}}", err=True)
    click.echo(
        "  @connections signatures: "
        + (f"SigV4 for access key(s) {', '.join(accepted)}" if accepted else "NOT checked"),
        err=True,
    )
    if admin:
        click.echo(f"  admin (local only): http://127.0.0.1:{running.port}/_wsgate/", err=True)
    for logical_id, value in api.api_keys.items():
        click.echo(f"  API key {logical_id}: {value}", err=True)


@click.command()
@click.option(
    "--template",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="CloudFormation or SAM template, JSON or YAML (wsgate synth, chalice package...).",
)
@click.option("--backend", help="Base URL replacing the host of HTTP/VPC-link integration URIs.")
@click.option("--port", type=int, default=GATEWAY_PORT, show_default=True)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="Key=Value",
    help="Template parameter override (repeatable).",
)
@click.option(
    "--authorizer",
    default="chalice_app.chalicelib.authorizer_handler:authorizer",
    show_default=True,
    help="module:attribute called in-process for the template's Lambda authorizer.",
)
@click.option(
    "--log-level",
    type=click.Choice(["OFF", "ERROR", "INFO"], case_sensitive=False),
    help="Execution log level (default: the stage's LoggingLevel).",
)
@click.option(
    "--connections-credentials",
    "credentials",
    multiple=True,
    metavar="ACCESS_KEY_ID:SECRET",
    help="Credentials whose SigV4 signatures @connections accepts (repeatable; default: the "
    "local stack's).",
)
@click.option(
    "--connections-unsigned",
    is_flag=True,
    help="Accept @connections requests without checking their signatures.",
)
@click.option(
    "--admin",
    is_flag=True,
    help="Serve the local-only read-only admin surface under /_wsgate/ (no AWS equivalent).",
)
@click.option(
    "--events-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append every gateway event (connect, route, integration...) to this file as "
    "JSON lines, rotated at 8 MiB (what `wsgate local` prints and `wsgate logs` reads).",
)
def gateway(
    template: Path,
    backend: str | None,
    port: int,
    params: tuple[str, ...],
    authorizer: str,
    log_level: str | None,
    credentials: tuple[str, ...],
    connections_unsigned: bool,
    admin: bool,
    events_file: Path | None,
) -> None:
    """Serve TEMPLATE's WebSocket API on 127.0.0.1, like API Gateway would."""
    from wsgate.gateway.config import GatewayConfig
    from wsgate.gateway.intrinsics import UnsupportedTemplateError
    from wsgate.gateway.running import start_gateway

    parameters = parse_parameters(params)
    try:
        check_template_flags(template, backend, parameters)
    except UnsupportedTemplateError as error:
        raise click.ClickException(f"cannot emulate this template: {error}") from None
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(name)s %(message)s")
    raise_fd_limit()
    config = GatewayConfig(
        template=template,
        backend=backend,
        port=port,
        parameters=parameters,
        authorizer=authorizer,
        log_level=log_level,
        admin=admin,
        events_file=events_file,
    )
    if connections_unsigned:
        config.connections_credentials = None
    elif credentials:
        config.connections_credentials = _credentials(credentials)

    async def run() -> None:
        try:
            running = await start_gateway(config)
        except UnsupportedTemplateError as error:
            raise click.ClickException(f"cannot emulate this template: {error}") from None
        except OSError as error:
            raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error}") from None
        _announce(running, config.connections_credentials, admin)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await running.close()

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())
