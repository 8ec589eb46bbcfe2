"""Fixtures for ``wsgate deploy``: moto's server for S3, SSM, STS and CloudFormation, and
stand-ins for the two steps moto cannot serve (Chalice, the wheel build) that record calls."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.names import ENV_STACK_NAME, ENV_TOKEN_SECRET_PARAM, StackNames
from tests.support.moto import REGION, client, moto_server
from wsgate.deploy.aws import Clients
from wsgate.deploy.config import DeployConfig
from wsgate.deploy.run import Toolkit

ACCOUNT = "123456789012"
"""moto's account id."""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def clients(endpoint: str) -> Clients:
    return Clients(
        region=REGION,
        s3=client("s3", endpoint),
        ssm=client("ssm", endpoint),
        cloudformation=client("cloudformation", endpoint),
        sts=client("sts", endpoint),
    )


@dataclass
class RecordingChalice:
    """Does what ``chalice deploy`` does that deploy relies on: writes the deployed record."""

    deployed_dir: Path
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def deploy(self, stage: str, env: Mapping[str, str]) -> None:
        self.calls.append(("deploy", stage, dict(env)))
        self.deployed_dir.mkdir(parents=True, exist_ok=True)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wsgate-{stage}-authorizer"
        record = {
            "resources": [
                {"name": "authorizer", "resource_type": "lambda_function", "lambda_arn": arn}
            ]
        }
        (self.deployed_dir / f"{stage}.json").write_text(json.dumps(record))

    def delete(self, stage: str, env: Mapping[str, str]) -> None:
        self.calls.append(("delete", stage, dict(env)))
        (self.deployed_dir / f"{stage}.json").unlink(missing_ok=True)


@dataclass(frozen=True)
class FakeArtifact:
    path: Path
    sha256: str
    key: str
    architecture: str


@dataclass
class RecordingBuilder:
    calls: list[tuple[Path, str]] = field(default_factory=list)
    content: bytes = b"a wheel"

    def __call__(self, output_dir: Path, *, architecture: str = "x86_64") -> FakeArtifact:
        self.calls.append((output_dir, architecture))
        path = output_dir / "wsgate-0.1.0-py3-none-any.whl"
        path.write_bytes(self.content)
        digest = hashlib.sha256(self.content).hexdigest()
        return FakeArtifact(path, digest, f"wsgate/{digest[:16]}/{path.name}", architecture)


def small_template(config: DeployConfig, authorizer: str, padding: int = 0) -> dict[str, Any]:
    """A template moto can create whose resources record what deploy passed in: the
    authorizer ARN synth was given and the artifact parameters."""
    prefix = f"/{config.stack}/deploy-test"
    template: dict[str, Any] = {
        "Parameters": {
            "ArtifactBucket": {"Type": "String"},
            "ArtifactKey": {"Type": "String"},
            "InstanceType": {"Type": "String", "Default": "t3.micro"},
        },
        "Resources": {
            "Authorizer": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": f"{prefix}/authorizer",
                    "Type": "String",
                    "Value": authorizer,
                },
            },
            "Artifact": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": f"{prefix}/artifact",
                    "Type": "String",
                    "Value": {"Fn::Sub": "s3://${ArtifactBucket}/${ArtifactKey} ${InstanceType}"},
                },
            },
        },
    }
    if padding:
        template["Metadata"] = {"Padding": "x" * padding}
    return template


@dataclass
class Harness:
    kit: Toolkit
    chalice: RecordingChalice
    builder: RecordingBuilder
    lines: list[str]


def write_chalice_config(path: Path, names: StackNames) -> Path:
    """A config.json whose stage points the Lambdas at this stack, as the real one must."""
    env = {ENV_TOKEN_SECRET_PARAM: names.token_secret_parameter, ENV_STACK_NAME: names.stack}
    path.write_text(json.dumps({"stages": {names.stage: {"environment_variables": env}}}))
    return path


@pytest.fixture
def harness(clients: Clients, tmp_path: Path, config: DeployConfig) -> Harness:
    chalice = RecordingChalice(tmp_path / "deployed")
    builder = RecordingBuilder()
    lines: list[str] = []
    kit = Toolkit(
        clients=clients,
        chalice=chalice,
        progress=lines.append,
        build_artifact=builder,
        synthesize=small_template,
        build_dir=tmp_path / "build",
        deployed_dir=chalice.deployed_dir,
        chalice_config=write_chalice_config(tmp_path / "config.json", config.names),
        sleep=lambda _: None,
        poll_s=0,
    )
    return Harness(kit, chalice, builder, lines)


@pytest.fixture
def config() -> DeployConfig:
    """A stack of its own: moto's state is shared by every server in the process."""
    return DeployConfig(stack=f"wsgate-{uuid.uuid4().hex[:8]}", region=REGION)
