"""The Lambdas' IAM policies, generated from ``shared.names`` with awacs: one role per function.

Chalice gives every function the stage's role unless the function has its own
``lambda_functions.<name>.iam_policy_file`` (``autogen_policy: false``: Chalice's policy
inference cannot see calls made through aiobotocore). Each function here gets only what its
code calls:

- ``authorizer``: read the token secret (``GetParameter``, with ``name:version`` for the
  previous version) and decrypt it through SSM (``kms:Decrypt`` on this account's keys, only
  when SSM in this region asks: ``kms:ViaService``).
- ``ops``: read the stack's parameters, scan/query/delete in the connections table and its
  room index, manage connections (POST/GET/DELETE on ``@connections``) of this API and stage,
  create and find API keys and add them to the usage plan, read usage, keep prune's position.
- ``prune`` (the schedule): the parameters, scan/delete, GET on ``@connections``, its position.

The committed files are for the default stack in any region and account (``*`` ARN segments,
never a bare ``*`` resource); ``python -m chalice_app.policies --region R --account A
--api-id X --usage-plan-id P`` pins them to one deployment (``wsgate deploy`` can run it once
the stack has written the API id and plan id to SSM). The API id is therefore optional: the
Chalice app may be deployed before the stack exists, and then the policy allows this account,
region and stage's ``@connections`` of any API, which is the tightest scope knowable then.

Run ``python -m chalice_app.policies`` after changing a name; a test fails until you do.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awacs.apigateway as apigateway
import awacs.dynamodb as dynamodb
import awacs.execute_api as execute_api
import awacs.kms as kms
import awacs.logs as logs
import awacs.ssm as ssm
from awacs.aws import Allow, Condition, PolicyDocument, Statement, StringEquals, StringLike

from shared.names import (
    DEFAULT_STACK_NAME,
    ENV_STACK_NAME,
    ENV_STAGE,
    ENV_TOKEN_SECRET_PARAM,
    StackNames,
    dns_suffix,
    partition,
)
from shared.routes import lambda_routes

CHALICE_DIR = Path(__file__).resolve().parent / ".chalice"
STAGES = ("dev", "prod")
LAMBDA_ROUTE_FUNCTIONS = tuple(route.function_name for route in lambda_routes())
"""The ``backend="lambda"`` WebSocket routes' functions (chalicelib/lambda_routes.py)."""
FUNCTIONS = ("authorizer", "ops", "prune", *LAMBDA_ROUTE_FUNCTIONS)
"""Chalice's function names: ``@app.lambda_function(name=...)``, ``@app.schedule(name=...)``
and the Lambda routes' blueprint functions."""
ANY = "*"
CONNECTION_METHODS = {"ops": ("POST", "GET", "DELETE"), "prune": ("GET",)}
"""@connections calls per function: broadcast POSTs, prune GETs, kick DELETEs."""


@dataclass(frozen=True)
class Target:
    """Where the policies will be used; ``*`` for what is not known when they are generated."""

    names: StackNames = field(default_factory=StackNames)
    region: str = ANY
    account: str = ANY
    api_id: str = ANY
    usage_plan_id: str = ANY

    @property
    def partition(self) -> str:
        return "aws" if self.region == ANY else partition(self.region)

    def arn(self, service: str, resource: str, *, account: bool = True) -> str:
        owner = self.account if account else ""
        return f"arn:{self.partition}:{service}:{self.region}:{owner}:{resource}"

    def parameter(self, name: str) -> str:
        return self.arn("ssm", f"parameter{name}")

    def table(self) -> str:
        return self.arn("dynamodb", f"table/{self.names.table}")

    def room_index(self) -> str:
        return f"{self.table()}/index/{self.names.room_index}"

    def connections(self, method: str) -> str:
        path = f"{self.api_id}/{self.names.stage}/{method}/@connections/*"
        return self.arn("execute-api", path)

    def rest(self, path: str) -> str:
        """An API Gateway control-plane resource (these ARNs have no account)."""
        return self.arn("apigateway", path, account=False)


def _logs(target: Target, function: str) -> Statement:
    group = f"log-group:/aws/lambda/{target.names.function(function)}"
    return Statement(
        Sid="OwnLogs",
        Effect=Allow,
        Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents],
        Resource=[target.arn("logs", group), target.arn("logs", f"{group}:*")],
    )


def _decrypt_via_ssm(target: Target) -> Statement:
    """SecureString reads decrypt with the parameter's key; which key (aws/ssm or a customer
    key) is chosen at deploy time, so the resource is this account's keys, used through SSM."""
    via: StringLike | StringEquals
    if target.region == ANY:
        via = StringLike({"kms:ViaService": f"ssm.*.{dns_suffix('us-east-1')}"})
    else:
        via = StringEquals({"kms:ViaService": f"ssm.{target.region}.{dns_suffix(target.region)}"})
    return Statement(
        Sid="DecryptTokenSecretThroughSsm",
        Effect=Allow,
        Action=[kms.Decrypt],
        Resource=[target.arn("kms", "key/*")],
        Condition=Condition(via),
    )


def _stack_parameters(target: Target) -> Statement:
    names = target.names
    return Statement(
        Sid="StackParameters",
        Effect=Allow,
        Action=[ssm.GetParameters],
        Resource=[
            target.parameter(names.table_name_parameter),
            target.parameter(names.connections_endpoint_parameter),
            target.parameter(names.usage_plan_id_parameter),
        ],
    )


def _prune_position(target: Target) -> Statement:
    return Statement(
        Sid="PrunePosition",
        Effect=Allow,
        Action=[ssm.GetParameter, ssm.PutParameter],
        Resource=[target.parameter(target.names.prune_resume_parameter)],
    )


def _connections(target: Target, function: str) -> Statement:
    return Statement(
        Sid="ManageConnections",
        Effect=Allow,
        Action=[execute_api.ManageConnections],
        Resource=[target.connections(method) for method in CONNECTION_METHODS[function]],
    )


def _authorizer(target: Target) -> list[Statement]:
    secret = Statement(
        Sid="TokenSecret",
        Effect=Allow,
        Action=[ssm.GetParameter],
        Resource=[target.parameter(target.names.token_secret_parameter)],
    )
    return [_logs(target, "authorizer"), secret, _decrypt_via_ssm(target)]


def _ops(target: Target) -> list[Statement]:
    plan = f"/usageplans/{target.usage_plan_id}"
    return [
        _logs(target, "ops"),
        _stack_parameters(target),
        _prune_position(target),
        Statement(
            Sid="ConnectionsTable",
            Effect=Allow,
            Action=[dynamodb.Scan, dynamodb.DeleteItem, dynamodb.BatchWriteItem],
            Resource=[target.table()],
        ),
        Statement(
            Sid="RoomIndex", Effect=Allow, Action=[dynamodb.Query], Resource=[target.room_index()]
        ),
        _connections(target, "ops"),
        Statement(
            Sid="CreateApiKeysInThePlan",
            Effect=Allow,
            Action=[apigateway.POST],
            Resource=[target.rest("/apikeys"), target.rest(f"{plan}/keys")],
        ),
        Statement(
            Sid="FindApiKeysAndUsage",
            Effect=Allow,
            Action=[apigateway.GET],
            Resource=[
                target.rest("/apikeys"),
                target.rest(f"{plan}/keys/*"),
                target.rest(f"{plan}/usage"),
            ],
        ),
    ]


def _prune(target: Target) -> list[Statement]:
    return [
        _logs(target, "prune"),
        _stack_parameters(target),
        _prune_position(target),
        Statement(
            Sid="ConnectionsTable",
            Effect=Allow,
            Action=[dynamodb.Scan, dynamodb.BatchWriteItem],
            Resource=[target.table()],
        ),
        _connections(target, "prune"),
    ]


def _listrooms(target: Target) -> list[Statement]:
    return [
        _logs(target, "listrooms"),
        Statement(
            Sid="TableNameParameter",
            Effect=Allow,
            Action=[ssm.GetParameter],
            Resource=[target.parameter(target.names.table_name_parameter)],
        ),
        Statement(
            Sid="ScanRoomIndex",
            Effect=Allow,
            Action=[dynamodb.Scan],
            Resource=[target.room_index()],
        ),
    ]


def policies(target: Target) -> dict[str, dict[str, Any]]:
    """Function name -> its policy document (as JSON data)."""
    builders = {"authorizer": _authorizer, "ops": _ops, "prune": _prune, "listrooms": _listrooms}
    missing = sorted(set(FUNCTIONS) - set(builders))
    if missing:
        raise KeyError(f"no policy for the Lambda functions {missing}: add one in {__file__}")
    return {
        name: json.loads(PolicyDocument(Version="2012-10-17", Statement=build(target)).to_json())
        for name, build in builders.items()
    }


def policy_file(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def chalice_config(stack: str = DEFAULT_STACK_NAME) -> dict[str, Any]:
    """``.chalice/config.json``: each function of each stage points at its own policy file."""
    stages: dict[str, Any] = {}
    for stage in STAGES:
        names = StackNames(stack, stage)
        stages[stage] = {
            "api_gateway_stage": stage,
            "environment_variables": {
                ENV_STAGE: stage,
                ENV_STACK_NAME: stack,
                ENV_TOKEN_SECRET_PARAM: names.token_secret_parameter,
            },
            "lambda_functions": {
                function: {"iam_policy_file": policy_file(stage, function)}
                for function in FUNCTIONS
            },
        }
    return {"version": "2.0", "app_name": "wsgate", "autogen_policy": False, "stages": stages}


def rendered_files(stack: str = DEFAULT_STACK_NAME, **target: str) -> dict[str, str]:
    """File name (in ``.chalice/``) -> content, for every stage."""
    files = {"config.json": json.dumps(chalice_config(stack), indent=2) + "\n"}
    for stage in STAGES:
        generated = policies(Target(StackNames(stack, stage), **target))
        for function, document in generated.items():
            files[policy_file(stage, function)] = json.dumps(document, indent=2) + "\n"
    return files


def write(directory: Path = CHALICE_DIR, stack: str = DEFAULT_STACK_NAME, **target: str) -> None:
    for name, content in rendered_files(stack, **target).items():
        (directory / name).write_text(content)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the Chalice IAM policy files.")
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    for option in ("region", "account", "api-id", "usage-plan-id"):
        parser.add_argument(f"--{option}", default=ANY)
    parser.add_argument("--directory", type=Path, default=CHALICE_DIR)
    args = parser.parse_args(argv)
    write(
        args.directory,
        args.stack,
        region=args.region,
        account=args.account,
        api_id=args.api_id,
        usage_plan_id=args.usage_plan_id,
    )


if __name__ == "__main__":
    main()
