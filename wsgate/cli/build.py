"""``wsgate build``: the service artifact an instance installs (see wsgate/artifact)."""

from __future__ import annotations

from pathlib import Path

import click

from infra.runtime import ARCHITECTURES, DEFAULT_ARCHITECTURE


@click.command(help="Build the service artifact (wheel + locked wheelhouse + unit + installer).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Directory to write wsgate-service-<version>-<sha12>.tar.gz into.",
)
@click.option(
    "--architecture",
    type=click.Choice(ARCHITECTURES),
    default=DEFAULT_ARCHITECTURE,
    show_default=True,
    help="The fleet's InstanceArchitecture (picks the wheels' platform).",
)
@click.option(
    "--host",
    is_flag=True,
    help="Build for this machine's Python instead (the boot rehearsal's artifact).",
)
@click.option(
    "--find-links",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Take the locked wheels from this directory only (offline; see `make wheelhouses`).",
)
def build(output: Path, architecture: str, host: bool, find_links: Path | None) -> None:
    from wsgate.artifact.build import build_for
    from wsgate.artifact.lock import LockError
    from wsgate.artifact.target import host_target, instance_target
    from wsgate.artifact.wheelhouse import WheelhouseError

    target = host_target() if host else instance_target(architecture)
    try:
        artifact = build_for(target, output, find_links=find_links)
    except (LockError, WheelhouseError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {artifact.path}")
    click.echo(f"  sha256 {artifact.sha256}")
    click.echo(f"  upload as s3://<ArtifactBucket>/{artifact.key} (ArtifactKey={artifact.key})")
