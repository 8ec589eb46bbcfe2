"""The template side of the caller check: secret, stage variable, request parameters, role.

Sources: request parameters may map ``stageVariables.NAME`` on every WebSocket route
(https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html);
a ``{{resolve:secretsmanager:...}}`` reference may appear in any resource property
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html).
"""

from __future__ import annotations

import json
from typing import Any

from infra.integration_secret import SECRET_LOGICAL_ID, VALUE_PARAMETER
from infra.options import SynthOptions
from infra.template import synthesize
from infra.websocket_api import logical_name
from shared import names
from shared.routes import service_routes

AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-prod-authorizer"


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_integration_sends_the_secret_from_the_stage_variable() -> None:
    for options in (
        SynthOptions(authorizer_arn=AUTHORIZER),
        SynthOptions(integration="http", backend_url="http://h:8080", authorizer_arn=AUTHORIZER),
    ):
        template = synthesize(options)
        resources = template["Resources"]
        for route in service_routes():
            parameters = resources[f"{logical_name(route)}Integration"]["Properties"][
                "RequestParameters"
            ]
            header = f"integration.request.header.{names.INTEGRATION_SECRET_HEADER}"
            assert parameters[header] == f"stageVariables.{names.INTEGRATION_SECRET_STAGE_VARIABLE}"
            assert parameters["integration.request.header.Content-Type"] == "'application/json'"
        stage = resources["Stage"]["Properties"]["StageVariables"]
        condition, reference, override = stage[names.INTEGRATION_SECRET_STAGE_VARIABLE]["Fn::If"]
        assert reference == {
            "Fn::Join": [
                "",
                ["{{resolve:secretsmanager:", {"Ref": SECRET_LOGICAL_ID}, ":SecretString}}"],
            ]
        }
        assert override == {"Ref": VALUE_PARAMETER}
        assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": VALUE_PARAMETER}, ""]}
        assert template["Parameters"][VALUE_PARAMETER]["NoEcho"] is True
        assert template["Parameters"][VALUE_PARAMETER]["Default"] == ""
        secret = resources[SECRET_LOGICAL_ID]["Properties"]
        assert secret["GenerateSecretString"]["Fn::If"][1]["ExcludePunctuation"] is True


def test_the_instance_reads_that_secret_only_and_knows_its_api() -> None:
    resources = synthesize(SynthOptions(authorizer_arn=AUTHORIZER))["Resources"]
    statements = resources["ServiceRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    assert reads == [
        {
            "Sid": "IntegrationSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [{"Ref": SECRET_LOGICAL_ID}],
        }
    ]
    text, variables = resources["ServiceLaunchTemplate"]["Properties"]["LaunchTemplateData"][
        "UserData"
    ]["Fn::Base64"]["Fn::Sub"]
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in text.splitlines()
        if line.startswith(f"export {names.ENV_PREFIX}")
    )
    assert exports[names.ENV_API_ID] == '"${WebSocketApi}"'
    assert exports[names.ENV_STAGE] == '"${StageName}"'
    assert exports[names.ENV_INTEGRATION_SECRET_ID] == '"${IntegrationSecret}"'
    assert exports[names.ENV_TABLE_NAME] == '"${ConnectionsTable}"'
    assert variables["WebSocketApi"] == {"Ref": "WebSocketApi"}
    assert variables["StageName"] == "prod"
    assert variables["IntegrationSecret"] == {"Ref": SECRET_LOGICAL_ID}
    assert variables["ConnectionsTable"] == {"Ref": "ConnectionsTable"}


def test_no_secret_value_in_the_template_and_none_for_mock_apis() -> None:
    text = json.dumps(synthesize(SynthOptions(authorizer_arn=AUTHORIZER)))
    assert 'SecretString": "' not in text  # only the generated or NoEcho-parameter forms
    mock = synthesize(SynthOptions(integration="mock", open_connect=True))
    assert SECRET_LOGICAL_ID not in mock["Resources"]
    assert names.INTEGRATION_SECRET_STAGE_VARIABLE not in json.dumps(mock)
