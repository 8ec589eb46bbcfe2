"""The fleet's instance role: what the service and its boot may do, and nothing else.

Every statement names its resource: the connections table and its index, ``@connections`` of
this API and stage only (POST, the one call the service makes), the artifact key the stack was
deployed with, and ``SignalResource`` on this stack. IAM actions for ``@connections``:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
(resource form ``arn:partition:execute-api:region:account:api-id/stage/METHOD/@connections/id``).
"""

from __future__ import annotations

from typing import Any

from awacs import aws as iam_policy
from awacs import cloudformation, execute_api, s3
from awacs import dynamodb as ddb
from troposphere import GetAtt, Join, Ref, Sub, Template, iam

from infra.iam import assumed_by
from infra.integration_secret import read_secret_statement
from shared.names import EXECUTE_API_ARN_SUB, PARAM_ARTIFACT_BUCKET, PARAM_ARTIFACT_KEY

PUSH_METHODS = ("POST",)
"""The ``@connections`` methods the service calls (shared/connections_api.py posts only)."""


def connections_arns(api: Any, stage: Any) -> list[Any]:
    return [
        Sub(
            EXECUTE_API_ARN_SUB + "${Api}/${Stage}/" + method + "/@connections/*",
            Api=Ref(api),
            Stage=stage,
        )
        for method in PUSH_METHODS
    ]


def _statements(api: Any, table: Any, stage: Any) -> list[iam_policy.Statement]:
    table_arn = GetAtt(table, "Arn")
    return [
        iam_policy.Statement(
            Sid="Connections",
            Effect=iam_policy.Allow,
            Action=[
                ddb.PutItem,
                ddb.GetItem,
                ddb.DeleteItem,
                ddb.UpdateItem,
                ddb.Query,
                ddb.DescribeTable,
            ],
            Resource=[table_arn, Join("", [table_arn, "/index/*"])],
        ),
        iam_policy.Statement(
            Sid="Push",
            Effect=iam_policy.Allow,
            Action=[execute_api.ManageConnections],
            Resource=connections_arns(api, stage),
        ),
        read_secret_statement(),
        iam_policy.Statement(
            Sid="Artifact",
            Effect=iam_policy.Allow,
            Action=[s3.GetObject],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:s3:::${"
                    + PARAM_ARTIFACT_BUCKET
                    + "}/${"
                    + PARAM_ARTIFACT_KEY
                    + "}"
                )
            ],
        ),
        iam_policy.Statement(
            Sid="BootSignal",
            Effect=iam_policy.Allow,
            Action=[cloudformation.SignalResource],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
                    "stack/${AWS::StackName}/*"
                )
            ],
        ),
    ]


def add_service_role(template: Template, api: Any, table: Any, stage: Any) -> iam.Role:
    statements = _statements(api, table, stage)
    return template.add_resource(
        iam.Role(
            "ServiceRole",
            AssumeRolePolicyDocument=assumed_by("ec2.amazonaws.com"),
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")
            ],
            Policies=[
                iam.Policy(
                    PolicyName="wsgate-service",
                    PolicyDocument=iam_policy.PolicyDocument(
                        Version="2012-10-17", Statement=statements
                    ),
                )
            ],
        )
    )
