"""The AWS edge: one boto3 session (profile and region as the AWS CLI reads them) and its
clients, plus the credential check whose failure every first-time user meets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from wsgate.deploy.config import DeployConfig, resolve_region
from wsgate.deploy.errors import ConfigError, CredentialsError

NO_CREDENTIALS = "no AWS credentials: run aws configure or set AWS_PROFILE"


@dataclass(frozen=True)
class Clients:
    """The clients a deployment uses, all in one region."""

    region: str
    s3: Any
    ssm: Any
    cloudformation: Any
    sts: Any

    @classmethod
    def from_session(cls, session: boto3.Session, region: str) -> Clients:
        def make(service: str) -> Any:
            return session.client(service, region_name=region)  # type: ignore[call-overload,unused-ignore]

        return cls(region, make("s3"), make("ssm"), make("cloudformation"), make("sts"))


def open_session(config: DeployConfig) -> tuple[boto3.Session, str]:
    """The session and region; reads only local files and the environment (no network)."""
    try:
        session = boto3.Session(profile_name=config.profile)
    except ProfileNotFound:
        raise ConfigError(
            f"AWS profile {config.profile!r} not found: run aws configure --profile "
            f"{config.profile} or pick another with --profile"
        ) from None
    return session, resolve_region(config, os.environ, session.region_name)


def account_id(sts: Any) -> str:
    """The account the credentials belong to; the first call that needs valid credentials."""
    try:
        return str(sts.get_caller_identity()["Account"])
    except NoCredentialsError:
        raise CredentialsError(NO_CREDENTIALS) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise CredentialsError(
            f"AWS rejected the credentials ({code}): refresh them (aws sso login, aws configure)"
            " or set AWS_PROFILE"
        ) from None
    except BotoCoreError as error:
        raise CredentialsError(
            f"cannot reach AWS STS ({error}): check the network/region"
        ) from None
