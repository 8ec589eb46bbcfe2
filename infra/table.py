"""The connections table (from ``shared.connections_table``) and the SSM parameters that tell
the ops Lambda where the stack is."""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template, dynamodb, ssm

from infra.accepted_findings import suppressions
from shared.connections_table import (
    TTL_ATTRIBUTE,
    attribute_definitions,
    key_schema,
    room_index,
)
from shared.names import StackNames


def add_table(template: Template) -> dynamodb.Table:
    index = room_index()
    return template.add_resource(
        dynamodb.Table(
            "ConnectionsTable",
            TableName=Sub(StackNames.cfn_table()),
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[dynamodb.KeySchema(**k) for k in key_schema()],
            AttributeDefinitions=[
                dynamodb.AttributeDefinition(**a) for a in attribute_definitions()
            ],
            GlobalSecondaryIndexes=[
                dynamodb.GlobalSecondaryIndex(
                    IndexName=index["IndexName"],
                    KeySchema=[dynamodb.KeySchema(**k) for k in index["KeySchema"]],
                    Projection=dynamodb.Projection(**index["Projection"]),
                )
            ],
            TimeToLiveSpecification=dynamodb.TimeToLiveSpecification(
                AttributeName=TTL_ATTRIBUTE, Enabled=True
            ),
            SSESpecification=dynamodb.SSESpecification(SSEEnabled=True),
            PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            DeletionPolicy="Retain",
            Metadata=suppressions(checkov=("CKV_AWS_119",)),
            UpdateReplacePolicy="Retain",
        )
    )


def add_ops_parameters(
    template: Template, stage_name: str, table: Any, connections_url: Any, usage_plan: Any
) -> None:
    """Where the ops Lambda finds the stack: ``/<stack>/<stage>/...``, named by
    ``shared.names.StackNames`` (the Lambda reads the same names)."""
    names = StackNames.in_template(stage_name)
    for title, name, value in (
        ("TableNameParameter", names.table_name_parameter, Ref(table)),
        ("ConnectionsEndpointParameter", names.connections_endpoint_parameter, connections_url),
        ("UsagePlanIdParameter", names.usage_plan_id_parameter, Ref(usage_plan)),
    ):
        template.add_resource(ssm.Parameter(title, Name=Sub(name), Type="String", Value=value))
