"""The two orchestrations, ``deploy`` and ``destroy``, over injectable collaborators.

Every AWS call goes through :class:`~wsgate.deploy.aws.Clients`; Chalice and the artifact
builder are passed in, so tests run the whole sequence against moto's server with stand-ins
that record what they were asked to do.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.chalice_outputs import ChaliceNotDeployedError, authorizer_arn, deployed_record_path
from shared.names import (
    ENV_TOKEN_SECRET_PARAM,
    OUTPUT_DEV_API_KEY_ID,
    OUTPUT_WEBSOCKET_URL,
)
from wsgate.deploy.artifacts import (
    BuiltArtifact,
    delete_bucket,
    ensure_bucket,
    upload_artifact,
    upload_template,
)
from wsgate.deploy.aws import Clients, account_id
from wsgate.deploy.chalice_config import chalice_config_problems
from wsgate.deploy.chalice_step import ChaliceRunner, aws_environment
from wsgate.deploy.config import DeployConfig
from wsgate.deploy.errors import ChaliceError, ConfigError, DeployError
from wsgate.deploy.plan import (
    TEMPLATE_BODY_LIMIT,
    Plan,
    deploy_plan,
    destroy_plan,
    offered_parameters,
)
from wsgate.deploy.secret import delete_token_secret, ensure_token_secret
from wsgate.deploy.stack import StackResult, TemplateSource, Waiter, delete_stack, deploy_stack

ArtifactBuilder = Callable[..., BuiltArtifact]
"""``build_artifact(output_dir, *, architecture=...)`` (``wsgate.artifact``'s signature)."""
Synthesizer = Callable[[DeployConfig, str], dict[str, Any]]
"""(config, authorizer ARN) -> template; the default runs ``infra.template.synthesize``."""


def build_service_artifact(output_dir: Path, *, architecture: str = "x86_64") -> BuiltArtifact:
    """``wsgate.artifact``'s builder, imported only when a real deployment runs (it pulls in
    pip's machinery, which a dry run never needs)."""
    from wsgate.artifact import build_artifact

    if architecture not in ("x86_64", "arm64"):
        raise DeployError(f"architecture {architecture!r}: choose x86_64 or arm64")
    artifact: BuiltArtifact = build_artifact(
        output_dir,
        architecture="arm64" if architecture == "arm64" else "x86_64",
    )
    return artifact


def synthesize_for(config: DeployConfig, authorizer: str) -> dict[str, Any]:
    """What ``wsgate synth --from-chalice STAGE`` writes for the configured stage: the Lambda
    routes' ARNs come from Chalice's record like the authorizer's (so they are hashed into the
    Deployment); without a record, infra falls back to Chalice's naming rule."""
    from infra.chalice_outputs import ChaliceNotDeployedError, function_arns
    from infra.options import SynthOptions
    from infra.template import synthesize
    from shared.routes import lambda_routes

    functions = tuple(route.function_name for route in lambda_routes())
    try:
        arns = function_arns(config.stage, functions) if functions else {}
    except ChaliceNotDeployedError:
        arns = {}
    options = SynthOptions(
        stage_name=config.stage, authorizer_arn=authorizer, lambda_arns=tuple(arns.items())
    )
    return synthesize(options)


@dataclass
class Toolkit:
    """The collaborators of a run; the defaults are the real ones."""

    clients: Clients
    chalice: ChaliceRunner
    progress: Callable[[str], None]
    build_artifact: ArtifactBuilder = build_service_artifact
    synthesize: Synthesizer = synthesize_for
    build_dir: Path = Path(".wsgate") / "build"
    deployed_dir: Path | None = None
    """Where Chalice records deployments (None: ``chalice_app/.chalice/deployed``)."""
    chalice_config: Path | None = None
    """Chalice's config.json (None: ``chalice_app/.chalice/config.json``)."""
    sleep: Callable[[float], None] = time.sleep
    poll_s: float = 5.0
    profile: str | None = None

    @property
    def waiter(self) -> Waiter:
        return Waiter(self.progress, self.sleep, self.poll_s)


@dataclass(frozen=True)
class Deployment:
    plan: Plan
    stack: StackResult
    artifact_key: str
    bucket_created: bool
    secret_created: bool
    template_url: str | None
    parameters: dict[str, str] = field(default_factory=dict)


def stack_parameters(
    template: Mapping[str, Any], offered: Mapping[str, str], requested: Mapping[str, str]
) -> dict[str, str]:
    """What to pass: deploy's own values where the template declares them, and every value
    the user asked for, which must be declared (CloudFormation would refuse it anyway)."""
    declared = set(template.get("Parameters", {}))
    unknown = sorted(set(requested) - declared)
    if unknown:
        raise ConfigError(
            f"parameter {unknown[0]} is not declared by the template (it declares "
            f"{', '.join(sorted(declared))})"
        )
    return {k: v for k, v in offered.items() if k in declared} | dict(requested)


def deploy(config: DeployConfig, kit: Toolkit) -> Deployment:
    clients, say = kit.clients, kit.progress
    problems = chalice_config_problems(config.names, kit.chalice_config)
    if problems:
        raise ConfigError(problems[0])
    plan = deploy_plan(config, clients.region, account_id(clients.sts))
    names = plan.names
    say(f"[1/6] AWS account ready in {clients.region}")
    artifact_key, bucket_created = _ship_artifact(config, kit, plan)
    secret_created = ensure_token_secret(clients.ssm, plan.secret_parameter)
    say(f"[3/6] token secret {plan.secret_parameter} {'created' if secret_created else 'kept'}")
    authorizer = _deploy_lambdas(kit, names.stage)
    template, source = _template(config, kit, plan, authorizer)
    offered = offered_parameters(config, plan.bucket, artifact_key)
    parameters = stack_parameters(template, offered, config.parameters)
    say(f"[6/6] stack {names.stack}: change set")
    result = deploy_stack(clients.cloudformation, names.stack, source, parameters, kit.waiter)
    return Deployment(
        plan=plan,
        stack=result,
        artifact_key=artifact_key,
        bucket_created=bucket_created,
        secret_created=secret_created,
        template_url=source.url,
        parameters=parameters,
    )


def _ship_artifact(config: DeployConfig, kit: Toolkit, plan: Plan) -> tuple[str, bool]:
    """Build the service artifact and upload it (once per content): its key, and whether the
    bucket was created."""
    clients = kit.clients
    kit.build_dir.mkdir(parents=True, exist_ok=True)
    artifact = kit.build_artifact(kit.build_dir, architecture=config.architecture)
    bucket_created = ensure_bucket(clients.s3, plan.bucket, clients.region)
    uploaded = upload_artifact(clients.s3, plan.bucket, artifact)
    kit.progress(
        f"[2/6] bucket {plan.bucket} {'created' if bucket_created else 'reused'}; "
        f"s3://{plan.bucket}/{artifact.key} {'uploaded' if uploaded else 'already there'}"
    )
    return artifact.key, bucket_created


def _deploy_lambdas(kit: Toolkit, stage: str) -> str:
    """``chalice deploy`` the stage; the authorizer's ARN from Chalice's own record."""
    kit.progress(f"[4/6] chalice deploy --stage {stage}")
    kit.chalice.deploy(stage, aws_environment(kit.profile, kit.clients.region))
    try:
        return authorizer_arn(stage, kit.deployed_dir)
    except ChaliceNotDeployedError as error:
        raise ChaliceError(f"chalice deploy finished but {error}") from None


def _template(
    config: DeployConfig, kit: Toolkit, plan: Plan, authorizer: str
) -> tuple[dict[str, Any], TemplateSource]:
    """Synthesize the template for this authorizer; one over CloudFormation's body limit goes
    through the artifact bucket."""
    clients = kit.clients
    template = kit.synthesize(config, authorizer)
    body = json.dumps(template, separators=(",", ":"))
    source = TemplateSource(body=body)
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        source = TemplateSource(
            url=upload_template(clients.s3, plan.bucket, plan.names, body, clients.region)
        )
    kit.progress(
        f"[5/6] template: {len(template.get('Resources', {}))} resources, {len(body)} bytes"
        + (f", via {source.url}" if source.url else "")
        + f"; $connect authorizer {authorizer}"
    )
    return template, source


def wscat_command(outputs: Mapping[str, str], plan: Plan, profile: str | None) -> str | None:
    """A command that connects with a fresh token and the development API key."""
    url = outputs.get(OUTPUT_WEBSOCKET_URL)
    key_id = outputs.get(OUTPUT_DEV_API_KEY_ID)
    if not url or not key_id:
        return None
    aws = "aws" + (f" --profile {shlex.quote(profile)}" if profile else "")
    token = (
        f"{ENV_TOKEN_SECRET_PARAM}={shlex.quote(plan.secret_parameter)} "
        f"AWS_REGION={plan.region} wsgate token --user alice"
    )
    api_key = (
        f"{aws} apigateway get-api-key --region {plan.region} --api-key {key_id} "
        "--include-value --query value --output text"
    )
    return f'npx wscat -c {url} -H "authorization:Bearer $({token})" -H "x-api-key:$({api_key})"'


@dataclass(frozen=True)
class Teardown:
    plan: Plan
    stack_deleted: bool
    secret_deleted: bool
    bucket_deleted: bool


def destroy(config: DeployConfig, kit: Toolkit, *, delete_artifacts: bool) -> Teardown:
    clients, say = kit.clients, kit.progress
    plan = destroy_plan(
        config, clients.region, account_id(clients.sts), delete_artifacts=delete_artifacts
    )
    names = plan.names
    say(f"stack {names.stack}: deleting")
    stack_deleted = delete_stack(clients.cloudformation, names.stack, kit.waiter)
    if not stack_deleted:
        say(f"stack {names.stack}: none to delete")
    record = deployed_record_path(names.stage, kit.deployed_dir)
    if record.exists():
        say(f"chalice delete --stage {names.stage}")
        kit.chalice.delete(names.stage, aws_environment(kit.profile, clients.region))
    else:
        say(f"Lambdas: no Chalice deployment recorded for stage {names.stage} ({record})")
    secret_deleted = delete_token_secret(clients.ssm, plan.secret_parameter)
    say(f"token secret {plan.secret_parameter}: {'deleted' if secret_deleted else 'none'}")
    bucket_deleted = False
    if delete_artifacts:
        bucket_deleted = delete_bucket(clients.s3, plan.bucket)
        say(f"bucket {plan.bucket}: {'deleted' if bucket_deleted else 'none'}")
    say(
        f"kept: dynamodb table {names.table} (DeletionPolicy Retain); delete it with "
        f"'aws dynamodb delete-table --table-name {names.table} --region {clients.region}'"
    )
    return Teardown(plan, stack_deleted, secret_deleted, bucket_deleted)
