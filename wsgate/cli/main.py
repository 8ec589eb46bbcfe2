"""``wsgate``: one entry point, one subcommand per job, each implemented where its logic lives.

Subcommands are imported only when run, so ``wsgate --help`` stays fast and a command's heavy
dependencies (Sanic, troposphere, Chalice) load only for the command that needs them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "schemas": (
        "wsgate.cli.schemas:schemas",
        "Export the client models as API Gateway draft-04 models.",
    ),
    "serve": ("wsgate.cli.serve:serve", "Run the Sanic integration service (what the ASG runs)."),
    "token": ("wsgate.cli.token:token", "Mint a signed development token for the authorizer."),
    "synth": (
        "wsgate.cli.synth:synth",
        "Generate the CloudFormation template for the whole stack.",
    ),
    "build": (
        "wsgate.cli.build:build",
        "Build the service artifact the fleet installs.",
    ),
    "gateway": ("wsgate.cli.gateway:gateway", "Run the local API Gateway for a template."),
    "local": ("wsgate.cli.local:local", "Run the whole chat stack on this machine."),
    "bench": ("wsgate.cli.bench:bench", "Benchmark the local stack against a baseline."),
    "deploy": ("wsgate.cli.deploy:deploy", "Deploy artifact, Lambdas and stack to AWS."),
    "destroy": ("wsgate.cli.deploy:destroy", "Remove what wsgate deploy created."),
    "connect": ("wsgate.cli.connect:connect", "Chat with the running local stack from a terminal."),
    "logs": ("wsgate.cli.logs:logs", "Print the running local stack's gateway events."),
    "invoke": (
        "wsgate.cli.invoke:invoke",
        "Run a Chalice function (ops...) locally or in AWS.",
    ),
}
"""name -> (``module:attribute`` of the click command, one-line help)."""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run with one-line errors (:mod:`wsgate.cli.errors`) instead of click's usage block."""
        from wsgate.cli.errors import one_line

        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        try:
            status = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.ClickException as error:
            click.echo(one_line(error), err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from COMMANDS, so listing commands imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wsgate")
def main() -> None:
    """wsgate: API Gateway WebSocket APIs served by an EC2 fleet, from one route table."""


if __name__ == "__main__":
    main()
