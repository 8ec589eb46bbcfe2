"""``wsgate deploy`` / ``wsgate destroy``: thin click commands over :mod:`wsgate.deploy`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from wsgate.cli.template_parameters import parse_parameters


def _target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags both commands share; each overrides the same key of ``[tool.wsgate]``."""
    options = [
        click.option(
            "--config",
            "pyproject",
            type=click.Path(path_type=Path, dir_okay=False),
            default=Path("pyproject.toml"),
            show_default=True,
            help="File whose [tool.wsgate] table holds the settings.",
        ),
        click.option("--stack", help="CloudFormation stack name (default: wsgate)."),
        click.option("--stage", help="API and Chalice stage (default: prod)."),
        click.option("--region", help="AWS region (default: AWS_REGION, then the profile's)."),
        click.option("--profile", help="AWS CLI profile (default: AWS_PROFILE / default)."),
        click.option(
            "--bucket", help="Artifact bucket (default: <stack>-artifacts-<acct>-<region>)."
        ),
        click.option(
            "--dry-run", is_flag=True, help="Print the plan; touch nothing (needs no credentials)."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _load(pyproject: Path, flags: dict[str, Any], params: tuple[str, ...] = ()) -> Any:
    from wsgate.deploy.config import load_config

    return load_config(pyproject, flags, parse_parameters(params))


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@click.command()
@_target_options
@click.option("--instance-type", help="EC2 instance type (default: t3.micro / t4g.micro).")
@click.option(
    "--architecture",
    type=click.Choice(["x86_64", "arm64"]),
    help="CPU architecture of the fleet and the wheel (default: x86_64).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Template parameter, e.g. FleetDesiredSize=1 (repeatable; adds to the config's).",
)
def deploy(pyproject: Path, dry_run: bool, params: tuple[str, ...], **flags: Any) -> None:
    """Deploy everything: artifact, token secret, Lambdas (Chalice) and the stack."""
    from wsgate.deploy.errors import DeployError

    try:
        config = _load(pyproject, flags, params)
        if dry_run:
            _print_plan(config, destroying=False)
            return
        _deploy(config)
    except DeployError as error:
        raise _fail(error) from None


@click.command()
@_target_options
@click.option("--delete-artifacts", is_flag=True, help="Also empty and delete the artifact bucket.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def destroy(
    pyproject: Path, dry_run: bool, delete_artifacts: bool, yes: bool, **flags: Any
) -> None:
    """Remove what wsgate deploy created (the connections table is kept)."""
    from wsgate.deploy.errors import DeployError

    try:
        config = _load(pyproject, flags)
        if dry_run:
            _print_plan(config, destroying=True, delete_artifacts=delete_artifacts)
            return
        if not yes:
            click.confirm(
                f"Delete stack {config.stack}, its Lambdas (stage {config.stage}) and token secret"
                + (" and the artifact bucket" if delete_artifacts else "")
                + "?",
                abort=True,
            )
        _destroy(config, delete_artifacts)
    except DeployError as error:
        raise _fail(error) from None


def _print_plan(config: Any, *, destroying: bool, delete_artifacts: bool = False) -> None:
    from wsgate.deploy.aws import open_session
    from wsgate.deploy.errors import NoRegionError
    from wsgate.deploy.plan import REGION_PLACEHOLDER, deploy_plan, destroy_plan

    try:
        _, region = open_session(config)
    except NoRegionError as error:
        click.echo(f"note: {error} before deploying", err=True)
        region = REGION_PLACEHOLDER
    if destroying:
        plan = destroy_plan(config, region, None, delete_artifacts=delete_artifacts)
    else:
        plan = deploy_plan(config, region, None)
    verb = "destroy" if destroying else "deploy"
    click.echo(f"wsgate {verb} --dry-run: stack {config.stack}, stage {config.stage}, {region}")
    for line in plan.lines():
        click.echo(line)
    if not destroying:
        from wsgate.deploy.chalice_config import chalice_config_problems

        for problem in chalice_config_problems(config.names):
            click.echo(f"would stop before step 1: {problem}")
    click.echo("nothing was changed (dry run)")


def _toolkit(config: Any) -> Any:
    from wsgate.deploy.aws import Clients, open_session
    from wsgate.deploy.chalice_step import ChaliceCli
    from wsgate.deploy.run import Toolkit

    session, region = open_session(config)
    progress = click.echo
    return Toolkit(
        clients=Clients.from_session(session, region),
        chalice=ChaliceCli(progress),
        progress=progress,
        profile=config.profile,
    )


def _deploy(config: Any) -> None:
    from wsgate.deploy.run import deploy as run_deploy
    from wsgate.deploy.run import wscat_command

    done = run_deploy(config, _toolkit(config))
    click.echo(f"stack {config.stack}: {done.stack.status}")
    for key, value in sorted(done.stack.outputs.items()):
        click.echo(f"  {key:<16} {value}")
    command = wscat_command(done.stack.outputs, done.plan, config.profile)
    if command:
        click.echo("connect:")
        click.echo(f"  {command}")


def _destroy(config: Any, delete_artifacts: bool) -> None:
    from wsgate.deploy.run import destroy as run_destroy

    run_destroy(config, _toolkit(config), delete_artifacts=delete_artifacts)
    click.echo("destroyed")
