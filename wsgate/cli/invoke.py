"""``wsgate invoke``: run a Chalice function against the local stack, or the deployed one.

The logic is in :mod:`wsgate.local.invocation`; this module finds the stack (``local.json``
locally, ``[tool.wsgate]`` for ``--remote``) and turns every failure into one line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from shared import names
from wsgate.cli.ops_help import ops_actions_help

EPILOG = f"""\b
FUNCTION is a function of the Chalice app: ops (PAYLOAD is the ops event), prune (the
scheduled prune, no PAYLOAD) or a backend="lambda" route such as listrooms (PAYLOAD is the
client's message; it gets the proxy event the gateway builds). The ops actions:
{ops_actions_help()}

\b
Examples:
  wsgate invoke ops '{{"action":"broadcast","message":"hi"}}'
  wsgate invoke ops '{{"action":"usage"}}'
  wsgate invoke listrooms '{{"action":"listrooms"}}'
  wsgate invoke --remote ops '{{"action":"prune"}}'
"""


def lambda_client(region: str | None) -> Any:
    """The Lambda client ``--remote`` invokes with (your AWS credentials and region)."""
    import boto3

    return boto3.client("lambda", region_name=region)


def _local(function: str, payload: Any, name: str | None, state_dir: Path | None) -> Any:
    from wsgate.cli.local_state import local_facts
    from wsgate.local.invocation import (
        build_event,
        find_target,
        gateway_usage,
        invoke_local,
        is_usage_request,
    )
    from wsgate.local.lambda_env import lambda_environment
    from wsgate.local.stack_options import STACK_NAME

    target = find_target(function)
    _check(target, payload)
    facts = local_facts(name, state_dir)
    try:
        region, stage = str(facts["region"]), str(facts["stage"])
        env = lambda_environment(
            region=region,
            moto_url=str(facts["ssmEndpoint"]),
            dynamodb_url=facts["dynamodbEndpoint"],
            stack_name=STACK_NAME,
            token_secret_parameter=str(facts["tokenSecretParameter"]),
        )
        api_id = str(facts["apiId"])
    except KeyError as error:
        raise click.ClickException(
            f"the local stack's local.json has no {error}: restart wsgate local"
        ) from None
    if is_usage_request(target, payload):
        click.echo(
            "moto implements no GetUsage: these are the local gateway's own counters for the "
            "current quota period (what it enforces); --remote asks AWS",
            err=True,
        )
        return gateway_usage(str(facts["connectionsUrl"]))
    env[names.ENV_STAGE] = stage
    event = build_event(target, payload, region, api_id, stage)
    return invoke_local(target, event, names.StackNames(STACK_NAME, stage), region, env)


def _check(target: Any, payload: Any) -> None:
    from wsgate.local.invocation import check_payload

    check_payload(target, payload)


def _remote(function: str, payload: Any, pyproject: Path) -> Any:
    from wsgate.deploy.config import load_config
    from wsgate.local.invocation import build_event, find_target, invoke_remote

    target = find_target(function)
    _check(target, payload)
    config = load_config(pyproject, {})
    region = config.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    event = build_event(target, payload, region or "us-east-1", "remoteinvk", config.stage)
    return invoke_remote(lambda_client(region), config.names.function(target.name), event)


@click.command(epilog=EPILOG)
@click.argument("function")
@click.argument("payload", required=False)
@click.option(
    "--remote",
    is_flag=True,
    help="Call the deployed function (lambda:Invoke; stack and stage from [tool.wsgate]).",
)
@click.option("--name", help="Which local stack, when several run here (`wsgate local --name`).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The local stack's state directory, if it was started with --state-dir.",
)
@click.option(
    "--pyproject",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("pyproject.toml"),
    show_default=True,
    help="With --remote: the file whose [tool.wsgate] names the stack and stage.",
)
def invoke(
    function: str,
    payload: str | None,
    remote: bool,
    name: str | None,
    state_dir: Path | None,
    pyproject: Path,
) -> None:
    """Run FUNCTION with the JSON PAYLOAD and print its answer (local stack by default)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from wsgate.deploy.errors import DeployError
    from wsgate.local.invocation import InvokeError, parse_payload

    try:
        event = parse_payload(payload)
        answer = (
            _remote(function, event, pyproject)
            if remote
            else _local(function, event, name, state_dir)
        )
    except InvokeError as error:
        raise click.ClickException(str(error)) from None
    except (BotoCoreError, ClientError, DeployError) as error:
        raise click.ClickException(f"{function}: {error}") from None
    if isinstance(answer, dict) and "error" in answer:
        details = "; ".join(
            f"{d['loc'] or 'payload'}: {d['msg']}" for d in answer.get("details", [])
        )
        raise click.ClickException(
            f"{function}: {answer['error']}" + (f" ({details})" if details else "")
        )
    click.echo(json.dumps(answer, indent=2, default=str))
