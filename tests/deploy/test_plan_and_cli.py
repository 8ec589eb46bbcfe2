"""``--dry-run`` plans, configuration, and the one-line errors a new user meets first."""

from __future__ import annotations

from pathlib import Path

import botocore.session
import pytest
from click.testing import CliRunner

from wsgate.cli.deploy import deploy, destroy
from wsgate.deploy.config import DeployConfig, instance_architecture, load_config
from wsgate.deploy.errors import ConfigError
from wsgate.deploy.plan import deploy_plan
from wsgate.deploy.run import wscat_command


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fresh machine: no credentials, no AWS config, and any client creation fails."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _forbid_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run created an AWS client")

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse)


@pytest.mark.usefixtures("no_aws")
@pytest.mark.parametrize("stack", ["wsgate", "chat-prod"])
def test_dry_run_prints_every_name_and_touches_nothing(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_clients(monkeypatch)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f'[tool.wsgate]\nstack = "{stack}"\nregion = "eu-west-1"\ninstance-type = "t4g.small"\n'
        'architecture = "arm64"\n[tool.wsgate.parameters]\nFleetDesiredSize = 1\n'
    )
    result = CliRunner().invoke(deploy, ["--config", str(pyproject), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    bucket = f"{stack}-artifacts-<account-id>-eu-west-1"
    for expected in (
        f"stack {stack}, stage prod, eu-west-1",
        "build the service artifact for arm64",
        f"s3 bucket {bucket}: created if missing, versioning on",
        f"ssm SecureString /{stack}/token-secret",
        "chalice deploy --stage prod",
        "lambda wsgate-prod-authorizer",
        "lambda wsgate-prod-ops",
        f"s3://{bucket}/templates/{stack}/<sha256>.json",
        f"deploy stack {stack} through a change set",
        f"parameter ArtifactBucket={bucket}",
        "parameter InstanceType=t4g.small",
        "parameter InstanceArchitecture=arm64",
        "parameter FleetDesiredSize=1",
        f"dynamodb table {stack}-connections",
        f"ssm /{stack}/prod/table-name",
        f"ssm /{stack}/prod/connections-endpoint",
        f"ssm /{stack}/prod/usage-plan-id",
        "wscat command",
        "nothing was changed (dry run)",
    ):
        assert expected in out, (expected, out)
    steps = [line for line in out.splitlines() if line[:1].isdigit()]
    assert len(steps) == 7


@pytest.mark.usefixtures("no_aws")
def test_dry_run_without_a_region_still_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_clients(monkeypatch)
    result = CliRunner().invoke(deploy, ["--config", str(tmp_path / "none.toml"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "wsgate-artifacts-<account-id>-<region>" in result.output
    assert "no AWS region" in result.output


@pytest.mark.usefixtures("no_aws")
def test_destroy_dry_run_names_what_it_deletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_clients(monkeypatch)
    args = [
        "--config",
        str(tmp_path / "none.toml"),
        "--stack",
        "chat-prod",
        "--region",
        "us-east-1",
        "--dry-run",
    ]
    kept = CliRunner().invoke(destroy, args)
    assert "keep artifact bucket chat-prod-artifacts-<account-id>-us-east-1" in kept.output
    gone = CliRunner().invoke(destroy, [*args, "--delete-artifacts"])
    assert gone.exit_code == 0, gone.output
    for expected in (
        "delete stack chat-prod",
        "table chat-prod-connections is retained",
        "chalice delete --stage prod",
        "ssm /chat-prod/token-secret",
        "s3 bucket chat-prod-artifacts-<account-id>-us-east-1",
    ):
        assert expected in gone.output


@pytest.mark.usefixtures("no_aws")
def test_missing_credentials_is_one_actionable_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        deploy, ["--config", str(tmp_path / "none.toml"), "--region", "eu-west-1"]
    )
    assert result.exit_code == 1
    assert result.output == "Error: no AWS credentials: run aws configure or set AWS_PROFILE\n"


@pytest.mark.usefixtures("no_aws")
def test_destroy_asks_before_deleting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        destroy, ["--config", str(tmp_path / "none.toml"), "--region", "eu-west-1"], input="n\n"
    )
    assert result.exit_code == 1
    assert "Delete stack wsgate" in result.output and "Aborted" in result.output


def test_flags_override_the_file_and_params_add_to_it(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.wsgate]\nstack = "chat"\nstage = "dev"\n'
        '[tool.wsgate.parameters]\nFleetDesiredSize = 2\nDomainName = "ws.example.com"\n'
    )
    config = load_config(pyproject, {"stage": "prod", "stack": None}, {"FleetDesiredSize": "1"})
    assert (config.stack, config.stage) == ("chat", "prod")
    assert config.parameters == {"FleetDesiredSize": "1", "DomainName": "ws.example.com"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.wsgate]\nstak = "x"\n', "stak: Extra inputs are not permitted"),
        ('[tool.wsgate]\nstack = "1bad"\n', "CloudFormation allows letters"),
        ('[tool.wsgate]\nregion = "Europe"\n', "not an AWS region name"),
        ('[tool.wsgate]\ninstance-type = "t4g.micro"\n', "runs arm64 but architecture is x86_64"),
        ("[tool.wsgate\n", "not valid TOML"),
    ],
)
def test_config_mistakes_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(pyproject, {})
    assert "\n" not in str(caught.value)


def test_instance_architecture() -> None:
    assert instance_architecture("t3.micro") == "x86_64"
    assert instance_architecture("g4dn.xlarge") == "x86_64"
    for graviton in ("t4g.micro", "m7g.large", "c6gn.medium", "r8g.large"):
        assert instance_architecture(graviton) == "arm64"
    assert DeployConfig(architecture="arm64").effective_instance_type == "t4g.micro"


def test_a_stack_name_too_long_for_the_default_bucket_says_what_to_set() -> None:
    config = DeployConfig(stack="chat-" + "x" * 60)
    with pytest.raises(ConfigError, match="pass --bucket") as caught:
        deploy_plan(config, "eu-west-1", None)
    assert "000000000000" not in str(caught.value)
    assert deploy_plan(config.model_copy(update={"bucket": "mine"}), "eu-west-1", None).bucket


def test_wscat_command_uses_the_outputs_and_the_stack_secret() -> None:
    plan = deploy_plan(DeployConfig(stack="chat-prod"), "eu-west-1", "123456789012")
    outputs = {
        "WebSocketUrl": "wss://abc.execute-api.eu-west-1.amazonaws.com/prod",
        "DevApiKeyId": "k1",
    }
    command = wscat_command(outputs, plan, "work")
    assert command is not None
    assert command.startswith("npx wscat -c wss://abc.execute-api.eu-west-1.amazonaws.com/prod ")
    assert "WSGATE_TOKEN_SECRET_PARAM=/chat-prod/token-secret" in command
    assert "aws --profile work apigateway get-api-key --region eu-west-1 --api-key k1" in command
    assert wscat_command({}, plan, None) is None


def test_deploy_and_destroy_are_wsgate_commands() -> None:
    from wsgate.cli.main import main

    result = CliRunner().invoke(main, ["--help"])
    assert "deploy" in result.output and "destroy" in result.output


def test_the_plan_names_every_function_the_chalice_app_declares() -> None:
    from chalice_app.app import app

    plan = deploy_plan(DeployConfig(stage="dev"), "eu-west-1", None)
    declared = [f.name for f in app.pure_lambda_functions] + [e.name for e in app.event_sources]
    assert "authorizer" in declared
    assert plan.functions == tuple(f"wsgate-dev-{name}" for name in declared)


def test_the_real_synthesizer_writes_the_deployed_authorizer_and_stage() -> None:
    from wsgate.deploy.run import synthesize_for

    arn = "arn:aws:lambda:eu-west-1:123456789012:function:wsgate-dev-authorizer"
    template = synthesize_for(DeployConfig(stage="dev"), arn)
    resources = template["Resources"]
    assert resources["AuthorizerInvokePermission"]["Properties"]["FunctionName"] == arn
    assert resources["Stage"]["Properties"]["StageName"] == "dev"
    assert resources["ConnectRoute"]["Properties"]["AuthorizationType"] == "CUSTOM"
