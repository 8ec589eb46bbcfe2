"""``wsgate schemas``: write the draft-04 gateway models, one JSON file per client model."""

from __future__ import annotations

from pathlib import Path

import click

from shared.schema_export import gateway_schemas, write_schemas


@click.command(help="Export the client models as API Gateway draft-04 models.")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write <ModelName>.json files into.",
)
def schemas(output: Path) -> None:
    for path in write_schemas(output):
        click.echo(f"wrote {path}")
    for name, converted in gateway_schemas().items():
        for where in converted.dropped:
            click.echo(f"warning: {name}: draft-04 cannot express {where}", err=True)
