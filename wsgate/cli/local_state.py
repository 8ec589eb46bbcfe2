"""The running ``wsgate local``'s facts, read from the ``local.json`` it writes when ready."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

STATE_FILE = "local.json"


def local_facts(state_dir: Path) -> dict[str, Any]:
    """``local.json`` of the stack started with ``state_dir``, or an error saying what to do."""
    path = state_dir / STATE_FILE
    try:
        facts = json.loads(path.read_text())
    except FileNotFoundError:
        raise click.ClickException(
            f"no running local stack: {path} does not exist (start one with `wsgate local`, "
            "or pass --state-dir if it was started with one)"
        ) from None
    except json.JSONDecodeError as error:
        raise click.ClickException(
            f"{path} is not valid JSON ({error}); restart `wsgate local`"
        ) from None
    if not isinstance(facts, dict):
        raise click.ClickException(f"{path} is not a JSON object; restart `wsgate local`")
    return facts
