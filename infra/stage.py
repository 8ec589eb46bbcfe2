"""The stage and what it needs: deployment, throttling, logs, and the account's CloudWatch role.

Traps handled here, each with a test: the stage depends on ``AWS::ApiGateway::Account`` (else
"CloudWatch Logs role ARN must be set in account settings"), and ``DefaultRouteSettings`` always
sets *both* throttle values (an unset one means 0, and every request gets 429).
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Parameter, Ref, Sub, Template, apigateway, apigatewayv2, iam, logs

from infra.accepted_findings import suppressions
from infra.iam import assumed_by
from infra.integration_secret import add_integration_secret
from shared.names import StackNames


def add_stage(
    template: Template,
    api: Any,
    routes: list[Any],
    deployment_title: str,
    stage_variables: dict[str, Any],
    stage_name: str,
) -> apigatewayv2.Stage:
    burst = template.add_parameter(
        Parameter(
            "StageBurstLimit",
            Type="Number",
            Default=5000,
            MinValue=1,
            Description="Default route throttling: burst (requests).",
        )
    )
    rate = template.add_parameter(
        Parameter(
            "StageRateLimit",
            Type="Number",
            Default=10000,
            MinValue=1,
            Description="Default route throttling: steady rate (requests/s).",
        )
    )
    level = template.add_parameter(
        Parameter(
            "LoggingLevel",
            Type="String",
            Default="ERROR",
            AllowedValues=["OFF", "ERROR", "INFO"],
            Description="Execution logging; INFO logs every message body and costs money.",
        )
    )
    retention = template.add_parameter(
        Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=30,
            AllowedValues=[1, 3, 5, 7, 14, 30, 60, 90, 180, 365],
        )
    )
    cloudwatch_role = template.add_resource(
        iam.Role(
            "ApiGatewayCloudWatchRole",
            AssumeRolePolicyDocument=assumed_by("apigateway.amazonaws.com"),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
    )
    account = template.add_resource(
        apigateway.Account("ApiGatewayAccount", CloudWatchRoleArn=GetAtt(cloudwatch_role, "Arn"))
    )
    access_logs = template.add_resource(
        logs.LogGroup(
            "AccessLogGroup",
            LogGroupName=Sub(StackNames.in_template().access_log_group),
            RetentionInDays=Ref(retention),
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
    access_format = (
        '{"requestId":"$context.requestId","connectionId":"$context.connectionId",'
        '"routeKey":"$context.routeKey","eventType":"$context.eventType",'
        '"status":"$context.status","ip":"$context.identity.sourceIp",'
        '"requestTime":"$context.requestTime","error":"$context.error.message",'
        '"integrationStatus":"$context.integrationStatus"}'
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
                ThrottlingBurstLimit=Ref(burst),
                ThrottlingRateLimit=Ref(rate),
                LoggingLevel=Ref(level),
                DataTraceEnabled=False,
                DetailedMetricsEnabled=False,
            ),
            AccessLogSettings=apigatewayv2.AccessLogSettings(
                DestinationArn=GetAtt(access_logs, "Arn"), Format=access_format
            ),
            DependsOn=[account.title],
        )
    )
