"""The secret that proves an integration request comes from API Gateway.

The service port is open to the whole VPC (the NLB forwards from there), and each request body
says which connection acts and as whom, so the service must know its caller. The stack keeps a
generated secret in Secrets Manager; the stage carries it in a stage variable whose value is a
``{{resolve:secretsmanager:...}}`` dynamic reference (never clear text in the template), and
each HTTP integration copies that stage variable into a header with its request parameters.

- Dynamic references for Secrets Manager "can be used in all resource properties":
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
  and are built with ``Fn::Join`` around ``Ref`` of the secret in AWS's own example:
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/cfn-example_reference-secret.html
- WebSocket integration request parameters accept ``stageVariables.VARIABLE_NAME`` (and static
  ``'values'``) on every route:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html

Rotation: CloudFormation re-resolves the reference only on a stack update, so rotate the secret,
then update the stack; the service accepts both ``AWSCURRENT`` and ``AWSPREVIOUS`` meanwhile.
``IntegrationSecretValue`` lets ``wsgate local`` (whose gateway cannot resolve dynamic
references) choose the value: the secret and the stage variable then hold the same string.
"""

from __future__ import annotations

from typing import Any

from awacs import aws as iam_policy
from awacs import secretsmanager as sm
from troposphere import Equals, If, Join, NoValue, Parameter, Ref, Sub, Template, apigatewayv2
from troposphere import secretsmanager as secrets

from infra.accepted_findings import suppressions
from shared.names import (
    INTEGRATION_SECRET_HEADER,
    INTEGRATION_SECRET_STAGE_VARIABLE,
    StackNames,
)

SECRET_LOGICAL_ID = "IntegrationSecret"
VALUE_PARAMETER = "IntegrationSecretValue"
GENERATED = "GeneratedIntegrationSecret"
SECRET_LENGTH = 48
"""Letters and digits only: stage variable values allow few punctuation characters."""


def request_parameters() -> dict[str, str]:
    """What every HTTP integration adds: the caller secret and an explicit JSON content type."""
    return {
        f"integration.request.header.{INTEGRATION_SECRET_HEADER}": (
            f"stageVariables.{INTEGRATION_SECRET_STAGE_VARIABLE}"
        ),
        "integration.request.header.Content-Type": "'application/json'",
    }


def _has_http_integrations(template: Template) -> bool:
    return any(
        isinstance(resource, apigatewayv2.Integration)
        and resource.properties.get("IntegrationType") != "MOCK"
        for resource in template.resources.values()
    )


def add_integration_secret(template: Template) -> dict[str, Any]:
    """Add the secret (when some integration calls the service) and return the stage
    variables that carry it; MOCK-only APIs call nothing and get nothing."""
    if not _has_http_integrations(template):
        return {}
    value = template.add_parameter(
        Parameter(
            VALUE_PARAMETER,
            Type="String",
            NoEcho=True,
            Default="",
            AllowedPattern="^[A-Za-z0-9]*$",
            Description="Leave empty: Secrets Manager generates the integration secret. "
            "wsgate local sets it, because its gateway cannot resolve dynamic references.",
        )
    )
    template.add_condition(GENERATED, Equals(Ref(value), ""))
    secret = template.add_resource(
        secrets.Secret(
            SECRET_LOGICAL_ID,
            Name=Sub(StackNames.cfn_integration_secret()),
            Description="Header value proving an integration request comes from API Gateway",
            GenerateSecretString=If(
                GENERATED,
                secrets.GenerateSecretString(PasswordLength=SECRET_LENGTH, ExcludePunctuation=True),
                NoValue,
            ),
            SecretString=If(GENERATED, NoValue, Ref(value)),
            Metadata=suppressions(checkov=("CKV_AWS_149", "CKV2_AWS_57")),
        )
    )
    reference = Join("", ["{{resolve:secretsmanager:", Ref(secret), ":SecretString}}"])
    return {INTEGRATION_SECRET_STAGE_VARIABLE: If(GENERATED, reference, Ref(value))}


def read_secret_statement() -> iam_policy.Statement:
    """The instance role may read this secret and no other."""
    return iam_policy.Statement(
        Sid="IntegrationSecret",
        Effect=iam_policy.Allow,
        Action=[sm.GetSecretValue],
        Resource=[Ref(SECRET_LOGICAL_ID)],
    )
