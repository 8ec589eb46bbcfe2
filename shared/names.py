"""Every name two parts of wsgate must agree on, in one place.

The template, the Chalice policies, the ops Lambda, the service and the local stack all meet at
names: the table a stack creates, the SSM parameters through which the Lambdas find the stack,
the environment variables each process reads, the ``@connections`` endpoint of a stage. Each is
written here once; everything else imports it, so a rename is one edit and a policy cannot allow
one table while the stack creates another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ENV_PREFIX = "WSGATE_"
"""Every wsgate setting is an environment variable with this prefix (pydantic-settings)."""

# Environment variables, by the process that reads them.
ENV_TABLE_NAME = "WSGATE_TABLE_NAME"
ENV_REGION = "WSGATE_REGION"
ENV_DYNAMODB_ENDPOINT = "WSGATE_DYNAMODB_ENDPOINT"
ENV_CONNECTIONS_ENDPOINT = "WSGATE_CONNECTIONS_ENDPOINT"
ENV_FANOUT_CONCURRENCY = "WSGATE_FANOUT_CONCURRENCY"
ENV_LOG_LEVEL = "WSGATE_LOG_LEVEL"
ENV_STAGE = "WSGATE_STAGE"
ENV_STACK_NAME = "WSGATE_STACK_NAME"
ENV_TOKEN_SECRET_PARAM = "WSGATE_TOKEN_SECRET_PARAM"
ENV_TOKEN_SECRET = "WSGATE_TOKEN_SECRET"
ENV_MOTO_RECORDER_FILEPATH = "MOTO_RECORDER_FILEPATH"
"""moto's own variable: where its recorder appends requests (``wsgate local --persist``)."""

DEFAULT_STACK_NAME = "wsgate"
DEFAULT_STAGE = "prod"
CHALICE_APP_NAME = "wsgate"
"""``app_name`` in ``chalice_app/.chalice/config.json``; Chalice names functions after it."""

ROOM_INDEX = "room-index"

_TABLE_NAME = "{stack}-connections"
_PARAMETER_ROOT = "/{stack}"

STACK_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
"""CloudFormation's rule for stack names."""
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""API Gateway's rule for stage names (alphanumerics, hyphens and underscores)."""
API_ID_PATTERN = re.compile(r"^[a-z0-9]{10}$")
"""API Gateway ids are ten lower-case alphanumerics (e.g. ``abcdef1234``)."""
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
"""Region names across partitions: ``us-east-1``, ``cn-north-1``, ``us-gov-west-1``."""


def partition(region: str) -> str:
    """The AWS partition a region belongs to (the ``arn:<partition>:`` of its ARNs)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's service endpoints (CloudFormation's ``AWS::URLSuffix``)."""
    return "amazonaws.com.cn" if partition(region) == "aws-cn" else "amazonaws.com"


def execute_api_host(api_id: str, region: str) -> str:
    """The default host name of an API: what ``$context.domainName`` is without a custom domain."""
    return f"{api_id}.execute-api.{region}.{dns_suffix(region)}"


def execute_api_endpoint(api_id: str, region: str, stage: str) -> str:
    """The ``@connections`` endpoint of a deployed stage (never the custom domain)."""
    return f"https://{execute_api_host(api_id, region)}/{stage}"


EXECUTE_API_ENDPOINT_SUB = "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
""":func:`execute_api_endpoint` as a CloudFormation ``Fn::Sub`` string (variables ``Api`` and
``Stage``), so the template and the Python agree on the form."""


@dataclass(frozen=True)
class StackNames:
    """The names one deployed stack (and one API stage) uses.

    The template only knows its stack name at deploy time, so the string forms below are also
    available as ``Fn::Sub`` patterns (``cfn_*``) built from the same format strings.
    """

    stack: str = DEFAULT_STACK_NAME
    stage: str = DEFAULT_STAGE

    def __post_init__(self) -> None:
        if not STACK_NAME_PATTERN.match(self.stack):
            raise ValueError(
                f"stack name {self.stack!r}: CloudFormation allows letters, digits and hyphens, "
                "starting with a letter, at most 128 characters"
            )
        if not STAGE_NAME_PATTERN.match(self.stage):
            raise ValueError(
                f"stage name {self.stage!r}: API Gateway allows letters, digits, '-' and '_'"
            )

    @property
    def table(self) -> str:
        return _TABLE_NAME.format(stack=self.stack)

    @property
    def room_index(self) -> str:
        return ROOM_INDEX

    @property
    def parameter_root(self) -> str:
        """Every SSM parameter of the stack lives under this path (one IAM wildcard)."""
        return _PARAMETER_ROOT.format(stack=self.stack)

    @property
    def token_secret_parameter(self) -> str:
        """The SecureString the authorizer verifies tokens with (created by ``wsgate deploy``)."""
        return f"{self.parameter_root}/token-secret"

    @property
    def table_name_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/table-name"

    @property
    def connections_endpoint_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/connections-endpoint"

    @property
    def usage_plan_id_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/usage-plan-id"

    def function(self, name: str) -> str:
        """A Chalice function's deployed name (Chalice: ``<app>-<stage>-<function>``)."""
        return f"{CHALICE_APP_NAME}-{self.stage}-{name}"

    @staticmethod
    def cfn_table() -> str:
        """:attr:`table` as an ``Fn::Sub`` string for the stack being created."""
        return _TABLE_NAME.format(stack="${AWS::StackName}")

    @staticmethod
    def cfn_parameter_root() -> str:
        return _PARAMETER_ROOT.format(stack="${AWS::StackName}")
