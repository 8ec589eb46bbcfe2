"""``wsgate local``: the whole chat on this machine; the logic lives in ``wsgate.local``."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

import click

from shared.names import CONSOLE_PORT, GATEWAY_PORT, MOTO_PORT, SERVICE_PORT
from wsgate.cli.config import (
    LOCAL_ENV_PREFIX,
    ConfiguredCommand,
    describe,
    scrub_local_environment,
)
from wsgate.cli.local_checks import check_local_flags
from wsgate.cli.template_parameters import parse_parameters
from wsgate.local.event_terminal import EventOutput
from wsgate.local.processes import PortInUseError, StartupError
from wsgate.local.restart_policy import RestartPolicy
from wsgate.local.stack import LocalStack
from wsgate.local.stack_options import LocalOptions, LocalStackInfo
from wsgate.local.state import DEFAULT_NAME, StackStateError, state_dir_for


def banner(info: LocalStackInfo) -> str:
    """What a new user reads first: what runs where, and commands to paste."""
    user, token = next(iter(info.tokens.items()))
    wscat = shlex.join(
        [
            "npx",
            "wscat",
            "-c",
            info.websocket_url,
            "-H",
            f"authorization:Bearer {token}",
            "-H",
            f"x-api-key:{info.api_key}",
        ]
    )
    lines = [
        "wsgate local is running (Ctrl+C stops everything)",
        f"  WebSocket API  {info.websocket_url}",
        f"  @connections   {info.connections_url}/@connections/{{connectionId}}",
        f"  service        {info.service_url}",
        f"  DynamoDB       {info.dynamodb_endpoint or 'AWS'}  table {info.table_name}",
        f"  browser chat   {info.console_url}",
        f"  API key        {info.api_key}",
        f"  logs           {info.logs}",
        "  supervision    a crashed service or moto is restarted; each event is a line here",
        f"  facts          {Path(info.logs).parent / 'local.json'}",
        "  events         one line each below (--quiet: none); later: wsgate logs --help",
        "",
        f"Chat as {user} from a terminal (then type"
        ' {"action":"joinroom","roomname":"developers"}):',
        f"  {wscat}",
    ]
    for other, other_token in list(info.tokens.items())[1:]:
        lines.append(f"  token for {other}: {other_token}")
    lines.append(f"Or open {info.console_url} in a browser.")
    return "\n".join(lines)


@click.command(cls=ConfiguredCommand)
@click.option(
    "--show-config",
    is_flag=True,
    help="Print each setting, its value and where it came from (flag, env, file, default).",
)
@click.option(
    "--gateway-port", type=int, default=GATEWAY_PORT, show_default=True, help="0 = any free."
)
@click.option("--service-port", type=int, default=SERVICE_PORT, show_default=True)
@click.option("--moto-port", type=int, default=MOTO_PORT, show_default=True, help="DynamoDB + SSM.")
@click.option(
    "--console-port", type=int, default=CONSOLE_PORT, show_default=True, help="Browser chat."
)
@click.option(
    "--dynamodb-endpoint",
    metavar="URL|aws",
    help="Use this DynamoDB (e.g. DynamoDB Local) or 'aws' for your account, not moto.",
)
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--seed-users", default="alice", show_default=True, help="Comma-separated users.")
@click.option("--api-key", help="Development API key (default: generated).")
@click.option("--token-secret", help="Token signing secret (default: generated).")
@click.option(
    "--api-key-source",
    type=click.Choice(["authorizer", "header"]),
    default="authorizer",
    show_default=True,
    help="authorizer serves browsers and wscat; header is the tutorial's x-api-key only.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="Key=Value",
    envvar=f"{LOCAL_ENV_PREFIX}_PARAM",
    help="Template parameter (repeatable; in the variable, separated by spaces).",
)
@click.option(
    "--name",
    default=DEFAULT_NAME,
    show_default=True,
    help="The stack's name: its state (local.json, events, logs) is in .wsgate/NAME/, so "
    "stacks with different names run side by side; other commands take the same --name.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Keep the state exactly in this directory instead of .wsgate/NAME/.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no line per gateway event.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Event lines as text (coloured on a terminal) or the events' JSON, one per line.",
)
@click.option("--workers", type=int, default=1, show_default=True, help="Service workers.")
@click.option("--log-level", default="INFO", show_default=True)
@click.option(
    "--persist",
    is_flag=True,
    help="Keep the local store (table items, SSM parameters) across restarts of moto and of "
    "wsgate local, in STATE_DIR/moto-recording.jsonl.",
)
@click.option(
    "--max-restarts",
    type=click.IntRange(min=0),
    default=RestartPolicy.max_restarts,
    show_default=True,
    help="Restarts in a row of a service or moto that dies within 30 s of starting; one more "
    "crash stops the stack.",
)
@click.option(
    "--reload/--no-reload",
    default=False,
    show_default=True,
    help="Apply edits to shared/, ec2_service/, chalice_app/ and infra/ while running, keeping "
    "every WebSocket open (make run turns it on). Needs --workers 1.",
)
@click.pass_context
def local(
    ctx: click.Context,
    show_config: bool,
    gateway_port: int,
    service_port: int,
    moto_port: int,
    console_port: int,
    dynamodb_endpoint: str | None,
    region: str,
    seed_users: str,
    api_key: str | None,
    token_secret: str | None,
    api_key_source: str,
    params: tuple[str, ...],
    name: str,
    state_dir: Path | None,
    quiet: bool,
    log_format: str,
    workers: int,
    log_level: str,
    persist: bool,
    max_restarts: int,
    reload: bool,
) -> None:
    """Run DynamoDB (moto), the service, the gateway and a browser chat on 127.0.0.1.

    Every flag can also be set as WSGATE_LOCAL_<NAME> (WSGATE_LOCAL_GATEWAY_PORT=3101) or in
    pyproject.toml's [tool.wsgate.local] (gateway-port = 3101); a flag wins over the variable,
    the variable over the file. --show-config shows the result.
    """
    if show_config:
        click.echo(describe(ctx))
        return
    scrub_local_environment()
    users = tuple(user.strip() for user in seed_users.split(",") if user.strip())
    if not users:
        raise click.BadParameter("name at least one user", param_hint="--seed-users")
    try:
        state_dir = state_dir or state_dir_for(name)
    except StackStateError as error:
        raise click.BadParameter(str(error), param_hint="--name") from None
    parameters = parse_parameters(params)
    check_local_flags(
        api_key=api_key,
        token_secret=token_secret,
        users=users,
        parameters=parameters,
        api_key_source=api_key_source,
    )
    if reload and workers != 1:
        raise click.BadParameter(
            "--reload hands the service's socket to one process at a time; use --workers 1 "
            "or --no-reload",
            param_hint="--workers",
        )
    options = LocalOptions(
        gateway_port=gateway_port,
        service_port=service_port,
        moto_port=moto_port,
        console_port=console_port,
        region=region,
        dynamodb_endpoint=dynamodb_endpoint,
        users=users,
        api_key=api_key,
        token_secret=token_secret,
        api_key_source=api_key_source,
        parameters=tuple(parameters.items()),
        state_dir=state_dir,
        service_workers=workers,
        log_level=log_level,
        persist=persist,
        restart_policy=RestartPolicy(max_restarts=max_restarts),
        events=EventOutput(quiet, "json" if log_format == "json" else "text", sys.stdout.isatty()),
        reload=reload,
    )
    with LocalStack(options, echo=click.echo) as stack:
        try:
            click.echo("starting moto, the service and the gateway...")
            info = stack.start()
            click.echo(banner(info))
            asyncio.run(stack.serve())
        except (PortInUseError, StartupError, StackStateError) as error:
            click.echo(f"wsgate local: {error}", err=True)
            sys.exit(1)
