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
ENV_API_ID = "WSGATE_API_ID"
ENV_INTEGRATION_SECRET = "WSGATE_INTEGRATION_SECRET"
ENV_INTEGRATION_SECRET_ID = "WSGATE_INTEGRATION_SECRET_ID"
ENV_INTEGRATION_SECRET_REFRESH_S = "WSGATE_INTEGRATION_SECRET_REFRESH_S"
ENV_CHALICE_APP = "WSGATE_CHALICE_APP"
"""``module:attribute`` of the Chalice app whose functions the local gateway runs."""
ENV_SECRETS_MANAGER_ENDPOINT = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
"""botocore's per-service endpoint variable: how a local stack reaches moto's Secrets Manager."""

INTEGRATION_SECRET_HEADER = "X-Wsgate-Integration-Secret"
"""The header every integration request carries (set by the integration's request parameters)."""
INTEGRATION_SECRET_STAGE_VARIABLE = "integrationSecret"
"""The stage variable the header's value comes from (a Secrets Manager dynamic reference)."""
ENV_MOTO_RECORDER_FILEPATH = "MOTO_RECORDER_FILEPATH"
"""moto's own variable: where its recorder appends requests (``wsgate local --persist``)."""

API_KEY_FROM_HEADER = "$request.header.x-api-key"
API_KEY_FROM_AUTHORIZER = "$context.authorizer.usageIdentifierKey"
"""The two ``ApiKeySelectionExpression`` values API Gateway accepts: the template chooses one
(``wsgate synth --api-key-source``), the local gateway reads the key from where it says."""

# Ports, by what listens on them.
SERVICE_PORT = 8080
"""The service's port: the NLB's target port on each instance, and ``wsgate local``'s default."""
GATEWAY_PORT = 3001
"""The local gateway's default port (``wsgate gateway``, ``wsgate local``)."""
MOTO_PORT = 8000
"""moto's server in ``wsgate local`` (DynamoDB, SSM, Secrets Manager, API keys)."""
CONSOLE_PORT = 3000
"""The browser chat console of ``wsgate local``."""

DEFAULT_STACK_NAME = "wsgate"
DEFAULT_STAGE = "prod"
CHALICE_APP_NAME = "wsgate"
"""``app_name`` in ``chalice_app/.chalice/config.json``; Chalice names functions after it."""

ROOM_INDEX = "room-index"

_TABLE_NAME = "{stack}-connections"
_ARTIFACT_BUCKET = "{stack}-artifacts-{account}-{region}"
_TEMPLATE_KEY = "templates/{stack}/{digest}.json"
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
"""S3's rule for bucket names (lower case, 3-63 characters)."""
_PARAMETER_ROOT = "/{stack}"
CFN_STACK_NAME = "${AWS::StackName}"
"""The stack name as an ``Fn::Sub`` variable: :meth:`StackNames.in_template` formats with it."""

STACK_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
"""CloudFormation's rule for stack names."""
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""API Gateway's rule for stage names (alphanumerics, hyphens and underscores)."""
API_ID_PATTERN = re.compile(r"^[a-z0-9]{10}$")
"""API Gateway ids are ten lower-case alphanumerics (e.g. ``abcdef1234``)."""
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
"""Region names across partitions: ``us-east-1``, ``cn-north-1``, ``us-gov-west-1``."""
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
"""DynamoDB's rule for table names."""
USER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
"""A user id (a token's ``sub``): what the console mints for and ``wsgate token`` accepts; it
becomes part of the user's API key name (:meth:`StackNames.user_api_key_name`)."""
CONNECTION_ID_PATTERN = re.compile(r"^[A-Za-z0-9+/=_-]{1,128}$")
"""API Gateway connection ids (``L0SM9cOFvHcCIhw=``): base64 characters, bounded so a forged one
can never exceed DynamoDB's 2048-byte partition-key limit."""


def env_names() -> frozenset[str]:
    """Every ``WSGATE_*`` variable any wsgate process reads: a name outside it is a typo."""
    return frozenset(
        value
        for key, value in globals().items()
        if key.startswith("ENV_")
        and isinstance(value, str)
        and value.startswith(ENV_PREFIX)
        and value != ENV_PREFIX
    )


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


EXECUTE_API_ARN_SUB = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
"""The start of every ``execute-api`` ARN as an ``Fn::Sub`` string: the API id and then
``stage/METHOD/path``, ``stage/route-key`` or ``authorizers/id`` follow
(https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html)."""


def execute_api_arn(region: str, account: str, resource: str) -> str:
    """:data:`EXECUTE_API_ARN_SUB` for a known region and account, followed by ``resource``."""
    return f"arn:{partition(region)}:execute-api:{region}:{account}:{resource}"


def s3_object_url(bucket: str, key: str, region: str) -> str:
    """The virtual-hosted URL of an object, the form CloudFormation's ``TemplateURL`` takes."""
    return f"https://{bucket}.s3.{region}.{dns_suffix(region)}/{key}"


WEBSOCKET_URL_SUB = "wss://" + EXECUTE_API_ENDPOINT_SUB.removeprefix("https://")
"""The URL clients connect to: the same host and stage as the ``@connections`` endpoint."""


@dataclass(frozen=True)
class StackNames:
    """The names one deployed stack (and one API stage) uses.

    The template only knows its stack name at deploy time, so the string forms below are also
    available as ``Fn::Sub`` patterns (``cfn_*``) built from the same format strings.
    """

    stack: str = DEFAULT_STACK_NAME
    stage: str = DEFAULT_STAGE

    def __post_init__(self) -> None:
        if self.stack != CFN_STACK_NAME and not STACK_NAME_PATTERN.match(self.stack):
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
    def integration_secret(self) -> str:
        """The Secrets Manager secret whose value API Gateway sends the service as a header."""
        return f"{self.stack}/integration-secret"

    @property
    def table_name_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/table-name"

    @property
    def connections_endpoint_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/connections-endpoint"

    @property
    def usage_plan_id_parameter(self) -> str:
        return f"{self.parameter_root}/{self.stage}/usage-plan-id"

    @property
    def api(self) -> str:
        """The WebSocket API's name, and its usage plan's (the ops Lambda lists keys by plan)."""
        return f"{self.stack}-chat"

    @property
    def dev_api_key(self) -> str:
        """The development API key the stack creates in the usage plan."""
        return f"{self.stack}-dev"

    @property
    def access_log_group(self) -> str:
        return f"/wsgate/{self.stack}/access"

    def artifact_bucket(self, account_id: str, region: str) -> str:
        """The default bucket for service artifacts and large templates: one per stack,
        account and region, since bucket names are global."""
        name = _ARTIFACT_BUCKET.format(stack=self.stack.lower(), account=account_id, region=region)
        if not BUCKET_NAME_PATTERN.match(name):
            raise ValueError(
                f"default artifact bucket {name!r} is not a valid S3 bucket name (3-63 lower-case "
                "characters): set a bucket in [tool.wsgate] or pass --bucket"
            )
        return name

    def template_key(self, digest: str) -> str:
        """Where a template too large for ``TemplateBody`` is uploaded (content-addressed)."""
        return _TEMPLATE_KEY.format(stack=self.stack, digest=digest)

    @property
    def prune_resume_parameter(self) -> str:
        """Where the scheduled prune keeps its position between runs (written by the Lambda)."""
        return f"{self.parameter_root}/{self.stage}/prune-resume"

    def user_api_key_name(self, user_id: str) -> str:
        """The API key of one user in this stage's usage plan (one key, one quota, per user)."""
        return f"{self.stack}-{self.stage}-user-{user_id}"

    def function(self, name: str) -> str:
        """A Chalice function's deployed name (Chalice: ``<app>-<stage>-<function>``)."""
        return f"{CHALICE_APP_NAME}-{self.stage}-{name}"

    @classmethod
    def in_template(cls, stage: str = DEFAULT_STAGE) -> StackNames:
        """The names as ``Fn::Sub`` strings, for a template that learns its stack name only when
        deployed: every property formats ``${AWS::StackName}`` where the stack name goes."""
        return cls(stack=CFN_STACK_NAME, stage=stage)

    @staticmethod
    def cfn_table() -> str:
        """:attr:`table` as an ``Fn::Sub`` string for the stack being created."""
        return _TABLE_NAME.format(stack="${AWS::StackName}")

    @staticmethod
    def cfn_integration_secret() -> str:
        """:attr:`integration_secret` as an ``Fn::Sub`` string."""
        return "${AWS::StackName}/integration-secret"

    @staticmethod
    def cfn_parameter_root() -> str:
        return _PARAMETER_ROOT.format(stack="${AWS::StackName}")


# The fleet's CloudFormation parameters that ``wsgate deploy`` fills in (infra/fleet.py declares
# them, wsgate/artifact builds what they point at).
PARAM_ARTIFACT_BUCKET = "ArtifactBucket"
PARAM_ARTIFACT_KEY = "ArtifactKey"
PARAM_INSTANCE_ARCHITECTURE = "InstanceArchitecture"
PARAM_INSTANCE_TYPE = "InstanceType"
PARAM_NAT_GATEWAYS = "NatGateways"

# The stack's outputs that ``wsgate deploy`` reads back (infra/ declares them).
OUTPUT_WEBSOCKET_URL = "WebSocketUrl"
OUTPUT_DEV_API_KEY_ID = "DevApiKeyId"

ARTIFACT_KEY_PREFIX = "artifacts/"
ARTIFACT_NAME = "wsgate-service"
"""Artifacts are ``artifacts/wsgate-service-<version>-<sha12>.tar.gz`` in the artifact bucket."""

# Environment of the instance boot (ec2_service/deploy/user-data.sh and install.sh).
ENV_INSTALL_ROOT = "WSGATE_INSTALL_ROOT"
"""Prefix of every path the install script writes (``/opt/wsgate``, ``/etc/...``); empty on EC2."""
ENV_HOST = "WSGATE_HOST"
ENV_PORT = "WSGATE_PORT"
ENV_HEALTH_TIMEOUT = "WSGATE_HEALTH_TIMEOUT"
# The artifact's ``runtime.env``, written by wsgate/artifact/target.py, sourced by install.sh.
ENV_TARGET = "WSGATE_TARGET"
ENV_PYTHON_VERSION = "WSGATE_PYTHON_VERSION"
ENV_IMAGE_PYTHON = "WSGATE_IMAGE_PYTHON"
ENV_IMAGE_PYTHON_PACKAGE = "WSGATE_IMAGE_PYTHON_PACKAGE"

# Signed user tokens: who mints them and for whom; the authorizer refuses any other value.
ENV_TOKEN_ISSUER = "WSGATE_TOKEN_ISSUER"
ENV_TOKEN_AUDIENCE = "WSGATE_TOKEN_AUDIENCE"
TOKEN_ISSUER = "wsgate"
"""The ``iss`` claim of every token wsgate mints (``wsgate token``, the local console)."""
TOKEN_AUDIENCE = "wsgate-websocket"
"""The ``aud`` claim: the WebSocket API's ``$connect`` authorizer is the only intended reader."""

ENV_GATEWAY_API_KEYS_ENDPOINT = "WSGATE_GATEWAY_API_KEYS_ENDPOINT"
"""The local gateway also accepts API keys that exist at this ``apigateway`` endpoint (moto's
server in ``wsgate local``): keys issued per user after the template was loaded."""
