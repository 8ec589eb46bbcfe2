"""Checks of flag values shared by several commands, each failing as one line naming the flag."""

from __future__ import annotations

import urllib.parse

import click

from shared.names import USER_ID_PATTERN


def check_http_url(value: str, flag: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host, else a usage error."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not an http(s) URL: pass one like http://127.0.0.1:8080",
            param_hint=flag,
        )
    return value


def check_user_id(value: str, flag: str = "--user") -> str:
    """A user id the local stack, the keys' names and tokens all accept (``USER_ID_PATTERN``)."""
    if not USER_ID_PATTERN.fullmatch(value):
        raise click.BadParameter(
            f"{value!r}: a user id is 1-32 letters, digits, '_' or '-'", param_hint=flag
        )
    return value
