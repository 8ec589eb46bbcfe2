"""Usage plan, development API key and the key's membership (the tutorial's CLI steps).

A v1 usage plan attaches to a v2 WebSocket stage through ``ApiStages``; it must be created after
the stage or creation fails with "Invalid API Stage": the ``Ref`` to the stage orders it.
"""

from __future__ import annotations

from typing import Any

from troposphere import (
    Equals,
    If,
    Not,
    NoValue,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
    apigateway,
)

from shared.names import OUTPUT_DEV_API_KEY_ID, StackNames

HAS_DEV_KEY_VALUE = "HasDevApiKeyValue"


def add_usage_plan(template: Template, api: Any, stage: Any) -> apigateway.UsagePlan:
    specs: dict[str, dict[str, Any]] = {
        "UsagePlanBurstLimit": {"Type": "Number", "Default": 10, "MinValue": 1},
        "UsagePlanRateLimit": {"Type": "Number", "Default": 5, "MinValue": 1},
        "UsagePlanQuotaLimit": {"Type": "Number", "Default": 500, "MinValue": 1},
        "UsagePlanQuotaPeriod": {
            "Type": "String",
            "Default": "MONTH",
            "AllowedValues": ["DAY", "WEEK", "MONTH"],
        },
        "DevApiKeyValue": {
            "Type": "String",
            "Default": "",
            "NoEcho": True,
            # API key values are 20-128 characters ("Must be at least 20 characters long",
            # https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_apigatewayv2.ApiKeyOptions.html);
            # the pattern lets CloudFormation and wsgate's --param checks refuse a shorter one.
            "AllowedPattern": "^$|^.{20,128}$",
            "ConstraintDescription": "API Gateway keys are 20-128 characters (empty: generated)",
            "Description": "Value of the development API key (20-128 "
            "characters); empty lets API Gateway generate one.",
        },
    }
    p = {name: template.add_parameter(Parameter(name, **spec)) for name, spec in specs.items()}
    template.add_condition(HAS_DEV_KEY_VALUE, Not(Equals(Ref(p["DevApiKeyValue"]), "")))
    plan = template.add_resource(
        apigateway.UsagePlan(
            "UsagePlan",
            UsagePlanName=Sub(StackNames.in_template().api),
            Description="Usage plan for the chat app",
            ApiStages=[apigateway.ApiStage(ApiId=Ref(api), Stage=Ref(stage))],
            Throttle=apigateway.ThrottleSettings(
                BurstLimit=Ref(p["UsagePlanBurstLimit"]), RateLimit=Ref(p["UsagePlanRateLimit"])
            ),
            Quota=apigateway.QuotaSettings(
                Limit=Ref(p["UsagePlanQuotaLimit"]), Period=Ref(p["UsagePlanQuotaPeriod"])
            ),
        )
    )
    key = template.add_resource(
        apigateway.ApiKey(
            "DevApiKey",
            Name=Sub(StackNames.in_template().dev_api_key),
            Enabled=True,
            Value=If(HAS_DEV_KEY_VALUE, Ref(p["DevApiKeyValue"]), NoValue),
        )
    )
    template.add_output(
        Output(
            OUTPUT_DEV_API_KEY_ID,
            Value=Ref(key),
            Description="get-api-key --include-value reads it",
        )
    )
    template.add_resource(
        apigateway.UsagePlanKey(
            "DevApiKeyInPlan", KeyId=Ref(key), KeyType="API_KEY", UsagePlanId=Ref(plan)
        )
    )
    return plan
