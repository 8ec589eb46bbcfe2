"""``wsgate local``'s settings: flags over ``WSGATE_LOCAL_*`` variables over ``[tool.wsgate.local]``
in pyproject.toml over the defaults, merged by click itself.

The file's table becomes click's ``default_map`` (keys are the flags' long names: ``gateway-port
= 3101``, ``param = ["UsagePlanBurstLimit=2"]``); the variables are click's
``auto_envvar_prefix`` names (``WSGATE_LOCAL_`` and the option's name in upper case:
``WSGATE_LOCAL_GATEWAY_PORT``, ``WSGATE_LOCAL_PARAMS``); ``--show-config`` reads
``Context.get_parameter_source``. The table is read by the one reader of ``[tool.wsgate]``,
:func:`wsgate.deploy.config.read_pyproject`.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from shared.names import ENV_PREFIX
from wsgate.deploy.config import LOCAL_SECTION, read_pyproject
from wsgate.deploy.errors import ConfigError

PYPROJECT = Path("pyproject.toml")
"""Read from the directory ``wsgate local`` runs in (``make run``: the project's root)."""
LOCAL_ENV_PREFIX = f"{ENV_PREFIX}LOCAL"
"""Every ``wsgate local`` variable starts with ``WSGATE_LOCAL_``; none reaches a child."""
SECRET_SETTINGS = frozenset({"api_key", "token_secret"})
"""Shown by ``--show-config`` as set or not, never by value."""
SOURCE_NAMES = {
    ParameterSource.COMMANDLINE: "flag",
    ParameterSource.ENVIRONMENT: "env",
    ParameterSource.DEFAULT_MAP: "file",
    ParameterSource.DEFAULT: "default",
}


def _settable(command: click.Command) -> dict[str, click.Option]:
    """The options a file may set, by long name without dashes (``gateway-port``)."""
    options: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.is_eager and param.expose_value:
            long_names = [opt for opt in param.opts if opt.startswith("--")]
            options[long_names[0].removeprefix("--")] = param
    options.pop("show-config", None)
    return options


def _file_value(option: click.Option, value: Any) -> Any:
    """A TOML value as click's ``default_map`` takes it (a list for repeatable options)."""
    if option.multiple and isinstance(value, str):
        return [value]
    if not option.multiple and isinstance(value, list):
        return ",".join(str(item) for item in value)  # seed-users = ["alice", "bob"]
    return value


def file_defaults(command: click.Command, pyproject: Path) -> dict[str, Any]:
    """``[tool.wsgate.local]`` as click's ``default_map``; an unknown key is a one-line error."""
    try:
        table = read_pyproject(pyproject).get(LOCAL_SECTION, {})
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if not isinstance(table, dict):
        raise click.ClickException(f"{pyproject}: [tool.wsgate.{LOCAL_SECTION}] must be a table")
    options = _settable(command)
    defaults: dict[str, Any] = {}
    for key, value in table.items():
        if key not in options:
            raise click.ClickException(
                f"{pyproject} [tool.wsgate.{LOCAL_SECTION}]: unknown key {key!r}; "
                f"valid keys: {', '.join(sorted(options))}"
            )
        option = options[key]
        assert option.name is not None
        defaults[option.name] = _file_value(option, value)
    return defaults


class ConfiguredCommand(click.Command):
    """A command whose defaults come from pyproject.toml, its variables from ``WSGATE_LOCAL_*``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        extra.setdefault("default_map", file_defaults(self, PYPROJECT))
        extra.setdefault("auto_envvar_prefix", LOCAL_ENV_PREFIX)
        return super().make_context(info_name, args, parent, **extra)


def env_name(ctx: click.Context, param: click.Parameter) -> str:
    """The variable click reads for ``param`` (its own ``envvar=`` or the derived name)."""
    if isinstance(param.envvar, str):
        return param.envvar
    return f"{ctx.auto_envvar_prefix}_{str(param.name).upper()}"


def describe(ctx: click.Context) -> str:
    """Each setting, its value and where it came from (flag, env NAME, file, default)."""
    rows = []
    for key, option in _settable(ctx.command).items():
        name = str(option.name)
        value = ctx.params.get(name)
        source = ctx.get_parameter_source(name)
        where = SOURCE_NAMES.get(source, "default") if source is not None else "default"
        if where == "env":
            where = f"env {env_name(ctx, option)}"
        elif where == "file":
            where = f"file {PYPROJECT} [tool.wsgate.{LOCAL_SECTION}]"
        if name in SECRET_SETTINGS:
            value = "(set)" if value else "(generated)"
        elif isinstance(value, tuple):
            value = " ".join(str(item) for item in value) or "(none)"
        rows.append((key, str(value), where))
    width = max(len(key) for key, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:<{value_width}}  {w}" for k, v, w in rows)


def scrub_local_environment(environ: MutableMapping[str, str] = os.environ) -> None:
    """Drop ``WSGATE_LOCAL_*`` once read: children inherit the environment, and the service
    refuses ``WSGATE_*`` names it does not know."""
    for name in [name for name in environ if name.startswith(f"{LOCAL_ENV_PREFIX}_")]:
        del environ[name]
