"""The stage and what it needs: deployment, throttling, logs, and the account's CloudWatch role.

Traps handled here, each with a test: the stage depends on ``AWS::ApiGateway::Account`` (else
"CloudWatch Logs role ARN must be set in account settings"), and ``DefaultRouteSettings`` always
sets *both* throttle values (an unset one means 0, and every request gets 429).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from troposphere import GetAtt, Parameter, Ref, Sub, Template, apigateway, apigatewayv2, iam, logs

from infra.accepted_findings import suppressions
from infra.iam import API_GATEWAY_PRINCIPAL, assumed_by
from infra.integration_secret import add_integration_secret
from shared.names import StackNames

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","connectionId":"$context.connectionId",'
    '"routeKey":"$context.routeKey","eventType":"$context.eventType",'
    '"status":"$context.status","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","error":"$context.error.message",'
    '"integrationStatus":"$context.integrationStatus"}'
)
"""One JSON line per request in the access log group."""


class _StageParameters(NamedTuple):
    """What an operator may change on a deployed stage without a new synth."""

    burst: Parameter
    rate: Parameter
    level: Parameter
    retention: Parameter


def add_stage(
    template: Template,
    api: Any,
    routes: list[Any],
    deployment_title: str,
    stage_variables: dict[str, Any],
    stage_name: str,
) -> apigatewayv2.Stage:
    params = _add_stage_parameters(template)
    account = _add_cloudwatch_account(template)
    access_logs = template.add_resource(
        logs.LogGroup(
            "AccessLogGroup",
            LogGroupName=Sub(StackNames.in_template().access_log_group),
            RetentionInDays=Ref(params.retention),
            Metadata=suppressions(checkov=("CKV_AWS_158",)),
        )
    )
    deployment = template.add_resource(
        apigatewayv2.Deployment(
            deployment_title,
            ApiId=Ref(api),
            Description="routes, integrations, templates and models of this synth",
            DependsOn=[route.title for route in routes],
        )
    )
    return template.add_resource(
        apigatewayv2.Stage(
            "Stage",
            ApiId=Ref(api),
            StageName=stage_name,
            DeploymentId=Ref(deployment),
            Description="wsgate stage",
            StageVariables={**stage_variables, **add_integration_secret(template)},
            DefaultRouteSettings=apigatewayv2.RouteSettings(
                ThrottlingBurstLimit=Ref(params.burst),
                ThrottlingRateLimit=Ref(params.rate),
                LoggingLevel=Ref(params.level),
                DataTraceEnabled=False,
                DetailedMetricsEnabled=False,
            ),
            AccessLogSettings=apigatewayv2.AccessLogSettings(
                DestinationArn=GetAtt(access_logs, "Arn"), Format=ACCESS_LOG_FORMAT
            ),
            DependsOn=[account.title],
        )
    )


def _add_stage_parameters(template: Template) -> _StageParameters:
    return _StageParameters(
        burst=template.add_parameter(
            Parameter(
                "StageBurstLimit",
                Type="Number",
                Default=5000,
                MinValue=1,
                Description="Default route throttling: burst (requests).",
            )
        ),
        rate=template.add_parameter(
            Parameter(
                "StageRateLimit",
                Type="Number",
                Default=10000,
                MinValue=1,
                Description="Default route throttling: steady rate (requests/s).",
            )
        ),
        level=template.add_parameter(
            Parameter(
                "LoggingLevel",
                Type="String",
                Default="ERROR",
                AllowedValues=["OFF", "ERROR", "INFO"],
                Description="Execution logging; INFO logs every message body and costs money.",
            )
        ),
        retention=template.add_parameter(
            Parameter(
                "LogRetentionDays",
                Type="Number",
                Default=30,
                AllowedValues=[1, 3, 5, 7, 14, 30, 60, 90, 180, 365],
            )
        ),
    )


def _add_cloudwatch_account(template: Template) -> apigateway.Account:
    """The account-wide CloudWatch role API Gateway logs through: a stage with logging on fails
    to create without it ("CloudWatch Logs role ARN must be set in account settings")."""
    cloudwatch_role = template.add_resource(
        iam.Role(
            "ApiGatewayCloudWatchRole",
            AssumeRolePolicyDocument=assumed_by(API_GATEWAY_PRINCIPAL),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
    )
    return template.add_resource(
        apigateway.Account("ApiGatewayAccount", CloudWatchRoleArn=GetAtt(cloudwatch_role, "Arn"))
    )
