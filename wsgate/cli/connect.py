"""``wsgate connect``: an interactive client for the running local stack.

The logic is in ``wsgate.local.interactive_client``; this module is the terminal: the prompt
with history (readline, when stdin is a terminal) and printing frames without mangling the
line being typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

PROMPT = "> "
HISTORY_FILE = "connect_history"


def _terminal_printer(prompt: str) -> Callable[[str], None]:
    """Print above the prompt and redraw it with what was typed so far."""
    import readline

    def show(text: str) -> None:
        sys.stdout.write(f"\r\x1b[K{text}\n{prompt}{readline.get_line_buffer()}")
        sys.stdout.flush()

    return show


def _plain_printer(text: str) -> None:
    print(text, flush=True)


def _enable_history(path: Path) -> Callable[[], None]:
    """Load the history file; the returned function saves it (the command ends with _exit)."""
    import readline

    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


@click.command()
@click.option("--user", required=True, help="Who to connect as (a token is minted for them).")
@click.option("--name", help="Which stack, when several run here (`wsgate local --name`).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The stack's state directory, if it was started with --state-dir.",
)
@click.option(
    "--wait",
    "quiet_s",
    type=float,
    default=1.0,
    show_default=True,
    help="After the input ends, keep printing frames until none arrived for this long.",
)
def connect(user: str, name: str | None, state_dir: Path | None, quiet_s: float) -> None:
    """Chat with the running local stack as USER: lines are messages, /join ROOM, raw JSON."""
    from wsgate.local.interactive_client import (
        ClientError,
        chat,
        find_stack,
        mint_token,
        read_piped_lines,
        read_typed_lines,
    )

    interactive = sys.stdin.isatty()
    try:
        address = find_stack(state_dir, name)
        token = mint_token(address.console_url, user)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    history = address.state_dir / HISTORY_FILE
    save_history = _enable_history(history) if interactive else None
    show = _terminal_printer(PROMPT) if interactive else _plain_printer

    async def run() -> int:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        if interactive:
            read_typed_lines(asyncio.get_running_loop(), lines, PROMPT)
            return await chat(address, token, lines, show, quiet_s)
        reader = asyncio.create_task(read_piped_lines(sys.stdin, lines))
        try:
            return await chat(address, token, lines, show, quiet_s)
        finally:
            reader.cancel()

    try:
        status = asyncio.run(run())
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        status = 0
    click.echo("bye", err=True)
    if save_history is not None:
        save_history()
        # The input thread may still be inside input(); leave without waiting for it.
        sys.stdout.write("\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
