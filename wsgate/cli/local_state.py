"""The running ``wsgate local``'s facts, as :func:`wsgate.local.state.find_stack` finds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from wsgate.local.state import StackStateError, find_stack


def local_facts(name: str | None, state_dir: Path | None) -> dict[str, Any]:
    """``local.json`` of the running stack these options mean, or a one-line error saying
    which option to pass (several stacks run) or to start ``wsgate local`` (none does)."""
    try:
        return find_stack(name, state_dir).facts
    except StackStateError as error:
        raise click.ClickException(str(error)) from None
