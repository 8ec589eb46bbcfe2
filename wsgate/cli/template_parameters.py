"""``--param Key=Value`` for the commands that load a template (``gateway``, ``local``)."""

from __future__ import annotations

import click


def parse_parameters(values: tuple[str, ...]) -> dict[str, str]:
    """Template parameter overrides; a later ``--param`` for the same key wins."""
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected Key=Value, got {value!r}", param_hint="--param")
        result[key] = rest
    return result
