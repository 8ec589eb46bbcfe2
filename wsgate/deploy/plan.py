"""The plan of a deployment: every name each step touches, computed from the configuration
alone. ``--dry-run`` prints it and the real run executes it, so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.chalice_outputs import AUTHORIZER_FUNCTION
from shared.names import (
    PARAM_ARTIFACT_BUCKET,
    PARAM_ARTIFACT_KEY,
    PARAM_INSTANCE_ARCHITECTURE,
    PARAM_INSTANCE_TYPE,
    StackNames,
)
from wsgate.deploy.config import DeployConfig
from wsgate.deploy.errors import ConfigError

TEMPLATE_BODY_LIMIT = 51_200
"""Bytes CloudFormation accepts as ``TemplateBody``; larger templates go through S3."""
CAPABILITIES = ("CAPABILITY_IAM",)
ACCOUNT_PLACEHOLDER = "<account-id>"
REGION_PLACEHOLDER = "<region>"
_SAMPLE_ACCOUNT = "000000000000"
_SAMPLE_REGION = "ap-southeast-1"


@dataclass(frozen=True)
class Step:
    title: str
    touches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Names first (the executor reads them), then the human-readable steps."""

    names: StackNames
    region: str
    bucket: str
    secret_parameter: str
    functions: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for number, step in enumerate(self.steps, start=1):
            out.append(f"{number}. {step.title}")
            out.extend(f"     {touch}" for touch in step.touches)
        return out


def chalice_functions() -> tuple[str, ...]:
    """The functions ``chalice_app/app.py`` declares: its Lambda functions and the handlers of
    its event sources (the scheduled prune), read from the app rather than listed again."""
    from chalice_app.app import app

    declared = [f.name for f in app.pure_lambda_functions]
    return tuple(declared + [source.name for source in app.event_sources])


def _default_bucket(names: StackNames, region: str, account: str | None) -> str:
    """Validated with a real account id's (and a long region's) length even when a dry run
    does not know them; the placeholders are put back for display."""
    samples = {_SAMPLE_ACCOUNT: account or ACCOUNT_PLACEHOLDER}
    if region == REGION_PLACEHOLDER:
        samples[_SAMPLE_REGION] = REGION_PLACEHOLDER
    try:
        bucket = names.artifact_bucket(
            account or _SAMPLE_ACCOUNT, _SAMPLE_REGION if region == REGION_PLACEHOLDER else region
        )
    except ValueError as error:
        message = str(error)
        for sample, shown in samples.items():
            message = message.replace(sample, shown)
        raise ConfigError(message) from None
    for sample, shown in samples.items():
        bucket = bucket.replace(sample, shown)
    return bucket


def _common(config: DeployConfig, region: str, account: str | None) -> Plan:
    names = config.names
    bucket = config.bucket or _default_bucket(names, region, account)
    return Plan(
        names=names,
        region=region,
        bucket=bucket,
        secret_parameter=names.token_secret_parameter,
        functions=tuple(names.function(f) for f in chalice_functions()),
    )


def _stack_touches(names: StackNames, parameters: dict[str, str]) -> tuple[str, ...]:
    return (
        f"capabilities: {', '.join(CAPABILITIES)}",
        *(f"parameter {key}={value}" for key, value in parameters.items()),
        f"dynamodb table {names.table} (retained on delete)",
        f"ssm {names.table_name_parameter}",
        f"ssm {names.connections_endpoint_parameter}",
        f"ssm {names.usage_plan_id_parameter}",
        f"websocket api {names.api}, stage {names.stage}, usage plan {names.api}, "
        f"api key {names.dev_api_key}, log group {names.access_log_group}",
        "vpc, nat gateway, internal nlb, auto scaling group, vpc link",
        "stack events streamed until the stack is complete",
    )


def offered_parameters(config: DeployConfig, bucket: str, artifact_key: str) -> dict[str, str]:
    """The fleet parameters ``wsgate deploy`` fills in itself (the user's values override)."""
    return {
        PARAM_ARTIFACT_BUCKET: bucket,
        PARAM_ARTIFACT_KEY: artifact_key,
        PARAM_INSTANCE_TYPE: config.effective_instance_type,
        PARAM_INSTANCE_ARCHITECTURE: config.architecture,
    }


def deploy_plan(config: DeployConfig, region: str, account: str | None) -> Plan:
    plan = _common(config, region, account)
    names = plan.names
    parameters = {
        **offered_parameters(config, plan.bucket, "<the artifact's versioned key>"),
        **config.parameters,
    }
    plan.steps.extend(
        [
            Step(
                "check AWS credentials (sts get-caller-identity)",
                (f"profile: {config.profile or '<default chain>'}", f"region: {region}"),
            ),
            Step(
                f"build the service artifact for {config.architecture} and upload it",
                (
                    f"s3 bucket {plan.bucket}: created if missing, versioning on, "
                    "SSE-S3 encryption, public access blocked",
                    f"s3://{plan.bucket}/<versioned artifact key> (skipped if already there)",
                ),
            ),
            Step(
                "create the token secret if missing (never overwritten)",
                (f"ssm SecureString {plan.secret_parameter}",),
            ),
            Step(
                f"deploy the Lambdas: chalice deploy --stage {names.stage} (in chalice_app/)",
                (
                    *(f"lambda {function}" for function in plan.functions),
                    f"record chalice_app/.chalice/deployed/{names.stage}.json",
                ),
            ),
            Step(
                "synthesize the template with the deployed $connect authorizer",
                (
                    f"authorizer: {names.function(AUTHORIZER_FUNCTION)} (from the Chalice record)",
                    f"over {TEMPLATE_BODY_LIMIT} bytes: s3://{plan.bucket}/"
                    f"{names.template_key('<sha256>')}",
                ),
            ),
            Step(
                f"deploy stack {names.stack} through a change set (create or update)",
                _stack_touches(names, parameters),
            ),
            Step("print the stack outputs and a ready wscat command"),
        ]
    )
    return plan


def destroy_plan(
    config: DeployConfig, region: str, account: str | None, *, delete_artifacts: bool
) -> Plan:
    plan = _common(config, region, account)
    names = plan.names
    plan.steps.extend(
        [
            Step(
                f"delete stack {names.stack} and wait",
                (f"dynamodb table {names.table} is retained (DeletionPolicy Retain)",),
            ),
            Step(
                f"delete the Lambdas: chalice delete --stage {names.stage}",
                tuple(f"lambda {function}" for function in plan.functions),
            ),
            Step("delete the token secret", (f"ssm {plan.secret_parameter}",)),
        ]
    )
    if delete_artifacts:
        plan.steps.append(
            Step(
                "delete every object version and the artifact bucket",
                (f"s3 bucket {plan.bucket}",),
            )
        )
    else:
        plan.steps.append(
            Step(f"keep artifact bucket {plan.bucket} (--delete-artifacts removes it)")
        )
    return plan
