"""``wsgate synth``: write the CloudFormation template; the logic lives in ``infra``."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from infra.options import OPEN_CONNECT_FLAG
from shared.names import DEFAULT_STAGE
from wsgate.cli.validation import check_http_url


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
@click.option(
    "--integration",
    type=click.Choice(["vpc-link", "http", "mock"]),
    default="vpc-link",
    show_default=True,
    help="VPC link to the NLB, a public HTTP backend, or MOCK (tutorial step 1).",
)
@click.option("--backend-url", help="--integration http: the service's base URL.")
@click.option(
    "--api-key-source",
    type=click.Choice(["header", "authorizer"]),
    default="header",
    show_default=True,
    help="x-api-key header (tutorial) or the authorizer (browsers).",
)
@click.option(
    "--identity-source",
    type=click.Choice(["none", "header", "querystring"]),
    default="none",
    show_default=True,
    help="Required identity source; none lets header and query tokens both work.",
)
@click.option(
    "--connection-id-header",
    is_flag=True,
    help="Also send the connection id as a connectionId header (request parameters).",
)
@click.option("--stage", default=DEFAULT_STAGE, show_default=True)
@click.option(
    "--from-chalice",
    "chalice_stage",
    metavar="STAGE",
    help="The $connect authorizer and Lambda routes: what 'chalice deploy --stage STAGE' recorded.",
)
@click.option("--authorizer-arn", metavar="ARN", help="The $connect authorizer Lambda's ARN.")
@click.option(
    OPEN_CONNECT_FLAG,
    "open_connect",
    is_flag=True,
    help="Tutorial only: $connect with NO authorizer, open to anyone with the API key.",
)
def synth(
    output: Path | None,
    fmt: str,
    integration: str,
    backend_url: str | None,
    api_key_source: str,
    identity_source: str,
    connection_id_header: bool,
    stage: str,
    chalice_stage: str | None,
    authorizer_arn: str | None,
    open_connect: bool,
) -> None:
    """Generate the whole stack (VPC, NLB, ASG, VPC link, WebSocket API, usage plan, table).

    The $connect authorizer is part of the template (--from-chalice or --authorizer-arn), so
    switching it on or changing it always creates a new API deployment.
    """
    from infra.chalice_outputs import ChaliceNotDeployedError, function_arns
    from infra.chalice_outputs import authorizer_arn as chalice_authorizer_arn
    from infra.options import SynthOptions
    from infra.template import synthesize
    from shared.routes import lambda_routes

    if backend_url is not None:
        if integration != "http":
            raise click.UsageError(
                f"--backend-url is used only by --integration http, not {integration}: "
                "drop it, or pass --integration http"
            )
        check_http_url(backend_url, "--backend-url")
    try:
        if chalice_stage and authorizer_arn:
            raise ValueError("--from-chalice and --authorizer-arn both name the authorizer")
        lambda_arns: dict[str, str] = {}
        if chalice_stage:
            authorizer_arn = chalice_authorizer_arn(chalice_stage)
            functions = tuple(route.function_name for route in lambda_routes())
            lambda_arns = function_arns(chalice_stage, functions)
        options = SynthOptions(
            integration=integration,  # type: ignore[arg-type]
            backend_url=backend_url,
            api_key_source=api_key_source,  # type: ignore[arg-type]
            identity_source=identity_source,  # type: ignore[arg-type]
            connection_id_header=connection_id_header,
            stage_name=stage,
            authorizer_arn=authorizer_arn,
            open_connect=open_connect,
            lambda_arns=tuple(lambda_arns.items()),
        )
        template = synthesize(options)
    except (ValueError, ChaliceNotDeployedError) as error:
        raise click.ClickException(str(error)) from None
    if fmt == "yaml":
        text = yaml.safe_dump(template, sort_keys=False, width=100)
    else:
        text = json.dumps(template, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        click.echo(f"wrote {output} ({len(template['Resources'])} resources)", err=True)
