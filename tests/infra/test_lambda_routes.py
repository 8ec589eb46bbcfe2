"""Lambda-backed routes in the template: AWS_PROXY integration, scoped permission, two-way.

Forms checked against AWS's documentation:
- integration URI: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-requests.html
- permission source ARN (``execute-api:region:account:api-id/stage/route-key``):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
- route responses of two-way routes: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

from infra.chalice_outputs import ChaliceNotDeployedError, function_arns
from infra.lambda_routes import LAMBDA_INTEGRATION_URI
from infra.options import SynthOptions
from infra.template import synthesize
from infra.websocket_api import logical_name
from shared.client_messages import ClientMessage
from shared.integration_models import MessageRequest
from shared.routes import ROUTES, Route, lambda_routes

AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-prod-authorizer"


def _arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def _given(routes: tuple[Route, ...] = ROUTES) -> tuple[tuple[str, str], ...]:
    return tuple((r.function_name, _arn(f"wsgate-prod-{r.function_name}")) for r in routes)


def _resources(options: SynthOptions) -> dict[str, Any]:
    resources: dict[str, Any] = synthesize(options)["Resources"]
    return resources


def _deployment(resources: dict[str, Any]) -> str:
    return next(k for k, v in resources.items() if v["Type"] == "AWS::ApiGatewayV2::Deployment")


class Shout(ClientMessage):
    action: Literal["shout"]
    volume: int


SHOUT = Route(
    key="shout",
    method="POST",
    path="/shout",
    integration_model=MessageRequest[Shout],
    client_model=Shout,
    backend="lambda",
    reply=True,
)


@pytest.mark.parametrize("route", lambda_routes(), ids=lambda r: r.key)
def test_lambda_route_is_an_aws_proxy_integration_with_a_scoped_permission(route: Route) -> None:
    lambda_arns = _given(lambda_routes())
    resources = _resources(SynthOptions(authorizer_arn=AUTHORIZER, lambda_arns=lambda_arns))
    name = logical_name(route)
    integration = resources[f"{name}Integration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationMethod"] == "POST"
    assert "RequestTemplates" not in integration and "ConnectionType" not in integration
    assert integration["IntegrationUri"] == {
        "Fn::Sub": [LAMBDA_INTEGRATION_URI, {"Function": dict(lambda_arns)[route.function_name]}]
    }
    permission = resources[f"{name}InvokePermission"]
    assert permission["Type"] == "AWS::Lambda::Permission"
    props = permission["Properties"]
    assert props["FunctionName"] == dict(lambda_arns)[route.function_name]
    assert props["Principal"] == "apigateway.amazonaws.com"
    assert props["Action"] == "lambda:InvokeFunction"
    assert props["SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        f"${{WebSocketApi}}/*/{route.key}"
    }
    assert f"{name}IntegrationResponse" not in resources  # proxy: no integration response
    route_props = resources[f"{name}Route"]["Properties"]
    if route.reply:
        assert route_props["RouteResponseSelectionExpression"] == "$default"
        assert resources[f"{name}RouteResponse"]["Properties"]["RouteResponseKey"] == "$default"
    assert route_props["RequestModels"] == {route.key: route.model_name}


def test_without_chalice_record_the_arn_follows_chalices_naming_rule() -> None:
    resources = _resources(SynthOptions(open_connect=True, stage_name="dev"))
    for route in lambda_routes():
        arn = resources[f"{logical_name(route)}InvokePermission"]["Properties"]["FunctionName"]
        assert arn == {
            "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:"
            f"function:wsgate-dev-{route.function_name}"
        }


def test_a_new_lambda_route_is_one_entry_and_its_arn_is_part_of_the_deployment_hash() -> None:
    routes = (*ROUTES, SHOUT)
    given = _given(lambda_routes(routes))
    first = _resources(SynthOptions(open_connect=True, routes=routes, lambda_arns=given))
    assert first["ShoutIntegration"]["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert "ShoutInvokePermission" in first and "ShoutRouteResponse" in first
    moved = tuple((n, a.replace("wsgate-prod", "wsgate-blue")) for n, a in given)
    second = _resources(SynthOptions(open_connect=True, routes=routes, lambda_arns=moved))
    assert _deployment(first) != _deployment(second)


def test_mock_mode_mocks_lambda_routes_too() -> None:
    resources = _resources(SynthOptions(integration="mock", open_connect=True))
    for route in lambda_routes():
        integration = resources[f"{logical_name(route)}Integration"]["Properties"]
        assert integration["IntegrationType"] == "MOCK"
        assert f"{logical_name(route)}InvokePermission" not in resources


def test_a_malformed_lambda_arn_is_refused_with_the_function_named() -> None:
    with pytest.raises(ValueError, match="for function 'listrooms' is not a Lambda function ARN"):
        SynthOptions(open_connect=True, lambda_arns=(("listrooms", "arn:aws:s3:::bucket"),))


def test_a_route_function_name_must_be_a_lambda_name() -> None:
    with pytest.raises(ValueError, match="Lambda function name"):
        Route(
            key="shout",
            method="POST",
            path="/shout",
            integration_model=MessageRequest[Shout],
            backend="lambda",
            function="no spaces allowed",
        )


def _record(tmp_path: Path, *names: str) -> Path:
    resources = [
        {"name": n, "resource_type": "lambda_function", "lambda_arn": _arn(f"wsgate-dev-{n}")}
        for n in names
    ]
    (tmp_path / "dev.json").write_text(
        json.dumps({"resources": resources, "schema_version": "2.0", "backend": "api"})
    )
    return tmp_path


def test_function_arns_come_from_chalices_deployed_record(tmp_path: Path) -> None:
    deployed = _record(tmp_path, "authorizer", "listrooms", "ops")
    assert function_arns("dev", ("listrooms",), deployed) == {
        "listrooms": _arn("wsgate-dev-listrooms")
    }


def test_a_function_missing_from_the_record_says_to_deploy_again(tmp_path: Path) -> None:
    deployed = _record(tmp_path, "authorizer")
    with pytest.raises(ChaliceNotDeployedError, match=r"'listrooms'.*chalice deploy --stage dev"):
        function_arns("dev", ("listrooms",), deployed)
