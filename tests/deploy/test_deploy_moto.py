"""The whole ``wsgate deploy`` / ``destroy`` sequence against moto's server (S3, SSM, STS,
CloudFormation change sets and stack events), with Chalice and the wheel build as recording
stand-ins."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.deploy.conftest import ACCOUNT, Harness, small_template, write_chalice_config
from tests.support.moto import REGION
from wsgate.deploy.chalice_config import chalice_config_problems
from wsgate.deploy.config import DeployConfig
from wsgate.deploy.errors import ConfigError
from wsgate.deploy.plan import TEMPLATE_BODY_LIMIT
from wsgate.deploy.run import deploy, destroy


def _ssm_value(harness: Harness, name: str) -> str:
    found = harness.kit.clients.ssm.get_parameter(Name=name, WithDecryption=True)
    return str(found["Parameter"]["Value"])


def test_deploy_from_an_empty_account(harness: Harness, config: DeployConfig) -> None:
    done = deploy(config, harness.kit)
    s3, names = harness.kit.clients.s3, config.names
    bucket = names.artifact_bucket(ACCOUNT, REGION)
    assert done.plan.bucket == bucket and done.bucket_created
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    uploaded = s3.get_object(Bucket=bucket, Key=done.artifact_key)
    assert uploaded["Body"].read() == harness.builder.content
    assert harness.builder.calls == [(harness.kit.build_dir, "x86_64")]

    assert done.secret_created
    secret = harness.kit.clients.ssm.get_parameter(Name=names.token_secret_parameter)
    assert secret["Parameter"]["Type"] == "SecureString"
    assert len(_ssm_value(harness, names.token_secret_parameter)) >= 32

    assert [(verb, stage) for verb, stage, _ in harness.chalice.calls] == [("deploy", "prod")]
    assert harness.chalice.calls[0][2]["AWS_REGION"] == REGION
    # The stack got the authorizer Chalice recorded and the artifact just uploaded.
    prefix = f"/{config.stack}/deploy-test"
    authorizer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wsgate-prod-authorizer"
    assert _ssm_value(harness, f"{prefix}/authorizer") == authorizer
    assert (
        _ssm_value(harness, f"{prefix}/artifact") == f"s3://{bucket}/{done.artifact_key} t3.micro"
    )
    assert done.stack.status == "CREATE_COMPLETE" and done.stack.changed
    assert done.template_url is None
    # InstanceArchitecture is offered but this template does not declare it.
    assert set(done.parameters) == {"ArtifactBucket", "ArtifactKey", "InstanceType"}
    assert any("CREATE_COMPLETE" in line and config.stack in line for line in harness.lines)


def test_second_deploy_reuses_bucket_and_secret_and_changes_nothing(
    harness: Harness, config: DeployConfig
) -> None:
    first = deploy(config, harness.kit)
    secret_name = config.names.token_secret_parameter
    secret = _ssm_value(harness, secret_name)
    second = deploy(config, harness.kit)
    assert first.bucket_created and not second.bucket_created
    assert first.secret_created and not second.secret_created
    assert _ssm_value(harness, secret_name) == secret
    assert not second.stack.changed
    assert f"stack {config.stack}: no changes" in harness.lines
    assert any("already there" in line for line in harness.lines)


def test_an_existing_secret_is_never_overwritten(harness: Harness, config: DeployConfig) -> None:
    name = config.names.token_secret_parameter
    harness.kit.clients.ssm.put_parameter(Name=name, Value="the-users-secret", Type="SecureString")
    done = deploy(config, harness.kit)
    assert not done.secret_created
    assert _ssm_value(harness, name) == "the-users-secret"


def test_a_template_over_the_inline_limit_goes_through_s3(
    harness: Harness, config: DeployConfig
) -> None:
    harness.kit.synthesize = functools.partial(small_template, padding=TEMPLATE_BODY_LIMIT)
    done = deploy(config, harness.kit)
    assert done.template_url is not None
    bucket = done.plan.bucket
    assert done.template_url.startswith(f"https://{bucket}.s3.{REGION}.amazonaws.com/templates/")
    key = done.template_url.split(".amazonaws.com/", 1)[1]
    body = harness.kit.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(body) > TEMPLATE_BODY_LIMIT
    assert done.stack.status == "CREATE_COMPLETE"


def test_a_parameter_the_template_does_not_declare_is_refused(
    harness: Harness, config: DeployConfig
) -> None:
    config = config.model_copy(update={"parameters": {"FleetDesredSize": "1"}})
    with pytest.raises(ConfigError, match="FleetDesredSize is not declared"):
        deploy(config, harness.kit)


def test_destroy_removes_what_deploy_made(harness: Harness, config: DeployConfig) -> None:
    done = deploy(config, harness.kit)
    clients = harness.kit.clients
    kept = destroy(config, harness.kit, delete_artifacts=False)
    assert kept.stack_deleted and kept.secret_deleted and not kept.bucket_deleted
    clients.s3.head_bucket(Bucket=done.plan.bucket)  # still there without --delete-artifacts
    with pytest.raises(ClientError, match="does not exist"):
        clients.cloudformation.describe_stacks(StackName=config.stack)
    with pytest.raises(ClientError, match="ParameterNotFound"):
        clients.ssm.get_parameter(Name=config.names.token_secret_parameter)
    with pytest.raises(ClientError, match="ParameterNotFound"):
        clients.ssm.get_parameter(Name=f"/{config.stack}/deploy-test/authorizer")
    assert [verb for verb, _, _ in harness.chalice.calls] == ["deploy", "delete"]

    gone = destroy(config, harness.kit, delete_artifacts=True)
    assert not gone.stack_deleted and gone.bucket_deleted
    assert [verb for verb, _, _ in harness.chalice.calls] == ["deploy", "delete"]  # none left
    with pytest.raises(ClientError):
        clients.s3.head_bucket(Bucket=done.plan.bucket)
    assert any(config.names.table in line and "delete-table" in line for line in harness.lines)


def test_a_chalice_stage_set_up_for_another_stack_stops_deploy_before_anything(
    harness: Harness, config: DeployConfig
) -> None:
    """The authorizer would read another stack's secret and refuse every $connect."""
    assert harness.kit.chalice_config is not None
    other = DeployConfig(stack="someone-else").names
    write_chalice_config(harness.kit.chalice_config, other)
    with pytest.raises(ConfigError, match=f"keeps it in /{config.stack}/token-secret"):
        deploy(config, harness.kit)
    assert harness.chalice.calls == [] and harness.builder.calls == []
    with pytest.raises(ClientError):
        harness.kit.clients.s3.head_bucket(Bucket=config.names.artifact_bucket(ACCOUNT, REGION))


def test_chalice_config_problems_name_the_fix(tmp_path: Path) -> None:
    names = DeployConfig(stack="chat-prod").names
    path = tmp_path / "config.json"
    assert chalice_config_problems(names, path)[0].startswith(f"cannot read {path}")
    write_chalice_config(path, names)
    assert chalice_config_problems(names, path) == []
    path.write_text(
        json.dumps(
            {
                "environment_variables": {"WSGATE_TOKEN_SECRET_PARAM": "/wsgate/token-secret"},
                "stages": {"prod": {"environment_variables": {"WSGATE_STACK_NAME": "wsgate"}}},
            }
        )
    )
    problems = chalice_config_problems(names, path)
    assert len(problems) == 2
    assert "reads the token secret from /wsgate/token-secret" in problems[0]
    assert "WSGATE_STACK_NAME=wsgate, not chat-prod" in problems[1]
    path.write_text(json.dumps({"stages": {"prod": {}}}))  # unset: the default stack's names
    assert chalice_config_problems(DeployConfig().names, path) == []
    assert "from /wsgate/token-secret" in chalice_config_problems(names, path)[0]
    dev = DeployConfig(stack="chat-prod", stage="dev").names
    assert chalice_config_problems(dev, path) == [
        f"{path} has no stage 'dev': add it under \"stages\""
    ]
