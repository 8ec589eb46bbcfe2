"""``wsgate logs``: the local stack's gateway events, filtered; the logic is in ``wsgate.local``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


def _since_ms(since: str | None) -> int | None:
    from wsgate.local.event_lines import parse_since

    if since is None:
        return None
    try:
        return int((time.time() - parse_since(since)) * 1000)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None


@click.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl+C.")
@click.option("--connection", "connection_id", metavar="ID", help="Only this connection's.")
@click.option("--route", metavar="KEY", help="Only this route's ($connect, sendmessage...).")
@click.option("--since", metavar="30s|5m|2h|1d", help="Only events this recent.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Lines as `wsgate local` prints them, or each event's JSON.",
)
@click.option("--name", help="Which stack, when several run here (`wsgate local --name`).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The stack's state directory, if it was started with --state-dir.",
)
def logs(
    follow: bool,
    connection_id: str | None,
    route: str | None,
    since: str | None,
    log_format: str,
    name: str | None,
    state_dir: Path | None,
) -> None:
    """Print the local gateway's events (connect, route, integration, push, disconnect...).

    Reads the stack's events file, so it also works after the stack stopped (with --name).
    """
    from wsgate.local.event_lines import EventFilter, render
    from wsgate.local.event_reader import follow_events, read_events
    from wsgate.local.state import EVENTS_FILE, StackStateError, stack_dir

    wanted = EventFilter(connection_id, route, _since_ms(since))
    try:
        path = stack_dir(name, state_dir) / EVENTS_FILE
    except StackStateError as error:
        raise click.ClickException(str(error)) from None
    if not path.parent.is_dir():
        raise click.ClickException(f"no local stack keeps its state in {path.parent}")
    if not path.exists() and not follow:
        raise click.ClickException(f"{path} does not exist: has this stack handled a request?")
    colour = sys.stdout.isatty()
    events = follow_events(path) if follow else iter(read_events(path))
    try:
        for event in events:
            if wanted.matches(event):
                click.echo(render(event, log_format, colour))
    except KeyboardInterrupt:
        pass
