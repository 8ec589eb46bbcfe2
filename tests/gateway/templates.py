"""Hand-written CloudFormation templates in the style ``wsgate synth`` writes, for the suite."""

from __future__ import annotations

import copy
from typing import Any

API = "Api"
KEY = "k" * 32


def _route(key: str, integration: str | None, **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"ApiId": {"Ref": API}, "RouteKey": key, **props}
    if integration:
        properties["Target"] = {"Fn::Join": ["/", ["integrations", {"Ref": integration}]]}
    return {"Type": "AWS::ApiGatewayV2::Route", "Properties": properties}


def http_integration(path: str, method: str = "POST", **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Integration",
        "Properties": {
            "ApiId": {"Ref": API},
            "IntegrationType": "HTTP",
            "IntegrationMethod": method,
            "IntegrationUri": {"Fn::Sub": "http://${BackendHost}:8080" + path},
            "TemplateSelectionExpression": "\\$default",
            "RequestTemplates": {
                "$default": '{"connectionId": "$context.connectionId", '
                '"routeKey": "$context.routeKey", "region": "${stageVariables.region}", '
                '"user": "$util.escapeJavaScript($context.authorizer.principalId)", '
                '"body": "$util.escapeJavaScript($input.body)", '
                '"code": "$context.disconnectStatusCode"}'
            },
            **props,
        },
    }


def mock_integration(template: str = '{"statusCode": 200}') -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Integration",
        "Properties": {
            "ApiId": {"Ref": API},
            "IntegrationType": "MOCK",
            "TemplateSelectionExpression": "\\$default",
            "RequestTemplates": {"$default": template},
        },
    }


def http_api(
    *,
    authorizer: bool = True,
    api_key_source: str = "$request.header.x-api-key",
    identity_sources: list[str] | None = None,
    with_default: bool = True,
    stage_throttle: tuple[int, float] = (5000, 10000.0),
    plan_throttle: tuple[int, float] = (100, 100.0),
    quota: int = 10_000,
    timeout_ms: int = 29_000,
) -> dict[str, Any]:
    """An HTTP-integration API: $connect/$disconnect/[$default]/echo (two-way)/say (model)."""
    resources: dict[str, Any] = {
        API: {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-test"},
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": "$request.body.action",
                "ApiKeySelectionExpression": api_key_source,
            },
        },
        "ConnectIntegration": http_integration("/connect"),
        "DisconnectIntegration": http_integration("/disconnect", "DELETE"),
        "EchoIntegration": http_integration("/echo"),
        "SayIntegration": http_integration("/say", TimeoutInMillis=timeout_ms),
        "ConnectRoute": _route(
            "$connect",
            "ConnectIntegration",
            ApiKeyRequired=True,
            **(
                {"AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "Auth"}}
                if authorizer
                else {}
            ),
        ),
        "DisconnectRoute": _route("$disconnect", "DisconnectIntegration"),
        "EchoRoute": _route("echo", "EchoIntegration", RouteResponseSelectionExpression="$default"),
        "EchoRouteResponse": {
            "Type": "AWS::ApiGatewayV2::RouteResponse",
            "Properties": {
                "ApiId": {"Ref": API},
                "RouteId": {"Ref": "EchoRoute"},
                "RouteResponseKey": "$default",
            },
        },
        "SayRoute": _route(
            "say",
            "SayIntegration",
            ModelSelectionExpression="$request.body.action",
            RequestModels={"say": "Say"},
        ),
        "SayModel": {
            "Type": "AWS::ApiGatewayV2::Model",
            "Properties": {
                "ApiId": {"Ref": API},
                "Name": "Say",
                "ContentType": "application/json",
                "Schema": {
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "type": "object",
                    "required": ["action", "text"],
                    "properties": {"text": {"type": "string", "minLength": 1}},
                },
            },
        },
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": {"Ref": API},
                "StageName": "prod",
                "StageVariables": {"region": {"Ref": "AWS::Region"}},
                "DefaultRouteSettings": {
                    "ThrottlingBurstLimit": stage_throttle[0],
                    "ThrottlingRateLimit": stage_throttle[1],
                    "LoggingLevel": "INFO",
                },
                "AccessLogSettings": {
                    "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:x",
                    "Format": '{"requestId":"$context.requestId","routeKey":"$context.routeKey",'
                    '"status":"$context.status"}',
                },
            },
        },
        "Plan": {
            "Type": "AWS::ApiGateway::UsagePlan",
            "Properties": {
                "ApiStages": [{"ApiId": {"Ref": API}, "Stage": {"Ref": "Stage"}}],
                "Throttle": {"BurstLimit": plan_throttle[0], "RateLimit": plan_throttle[1]},
                "Quota": {"Limit": quota, "Period": "MONTH"},
            },
        },
        "Key": {
            "Type": "AWS::ApiGateway::ApiKey",
            "Properties": {"Enabled": True, "Value": {"Ref": "KeyValue"}},
        },
        "KeyInPlan": {
            "Type": "AWS::ApiGateway::UsagePlanKey",
            "Properties": {
                "KeyId": {"Ref": "Key"},
                "KeyType": "API_KEY",
                "UsagePlanId": {"Ref": "Plan"},
            },
        },
        "Domain": {
            "Type": "AWS::ApiGatewayV2::DomainName",
            "Properties": {"DomainName": "ws.example.com"},
        },
        "Mapping": {
            "Type": "AWS::ApiGatewayV2::ApiMapping",
            "Properties": {
                "ApiId": {"Ref": API},
                "DomainName": {"Ref": "Domain"},
                "Stage": {"Ref": "Stage"},
                "ApiMappingKey": "chat",
            },
        },
        "Network": {
            "Type": "AWS::EC2::VPC",
            "Properties": {"CidrBlock": {"Fn::Cidr": ["x", 1, 1]}},
        },
    }
    if authorizer:
        resources["Auth"] = {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": API},
                "Name": "auth",
                "AuthorizerType": "REQUEST",
                "AuthorizerUri": {
                    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                    "2015-03-31/functions/${AuthArn}/invocations"
                },
                **({"IdentitySource": identity_sources} if identity_sources else {}),
            },
        }
    if with_default:
        resources["DefaultIntegration"] = http_integration("/default")
        resources["DefaultRoute"] = _route("$default", "DefaultIntegration")
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "BackendHost": {"Type": "String", "Default": "internal-nlb.example.com"},
            "KeyValue": {"Type": "String", "Default": KEY, "NoEcho": True},
            "AuthArn": {
                "Type": "String",
                "Default": "arn:aws:lambda:us-east-1:123456789012:function:auth",
            },
        },
        "Resources": resources,
    }


def tutorial_mock_api(with_status_code: bool) -> dict[str, Any]:
    """The tutorial's first step: five routes, all MOCK, no authorizer or keys."""
    template = '{"statusCode": 200}' if with_status_code else "{}"
    resources: dict[str, Any] = {
        API: {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": "chat",
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": "$request.body.action",
            },
        },
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": {"Ref": API},
                "StageName": "prod",
                "DefaultRouteSettings": {
                    "ThrottlingBurstLimit": 100,
                    "ThrottlingRateLimit": 100,
                    "LoggingLevel": "INFO",
                },
            },
        },
    }
    for name, key in [
        ("Connect", "$connect"),
        ("Disconnect", "$disconnect"),
        ("Default", "$default"),
        ("Joinroom", "joinroom"),
        ("Sendmessage", "sendmessage"),
    ]:
        resources[f"{name}Integration"] = mock_integration(
            template if key == "$connect" else '{"statusCode": 200}'
        )
        two_way = key not in ("$connect", "$disconnect")
        resources[f"{name}IntegrationResponse"] = {
            "Type": "AWS::ApiGatewayV2::IntegrationResponse",
            "Properties": {
                "ApiId": {"Ref": API},
                "IntegrationId": {"Ref": f"{name}Integration"},
                "IntegrationResponseKey": "/2\\d\\d/",
                "ResponseTemplates": {"$default": '{"route": "$context.routeKey"}'},
                "TemplateSelectionExpression": "\\$default",
            },
        }
        resources[f"{name}Route"] = _route(
            key,
            f"{name}Integration",
            **({"RouteResponseSelectionExpression": "$default"} if two_way else {}),
        )
        if two_way:
            resources[f"{name}RouteResponse"] = {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {
                    "ApiId": {"Ref": API},
                    "RouteId": {"Ref": f"{name}Route"},
                    "RouteResponseKey": "$default",
                },
            }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def without(template: dict[str, Any], *logical_ids: str) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    for logical_id in logical_ids:
        del copied["Resources"][logical_id]
    return copied
