"""The WebSocket API: routes, integrations, models and authorizer, all from the route table.

Nothing here names a route: every Route, Integration and Model comes from ``shared.routes``,
so adding a table entry adds its resources.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import (
    AWSObject,
    GetAtt,
    Join,
    Ref,
    Sub,
    Template,
    apigatewayv2,
    encode_to_dict,
)
from troposphere import awslambda as lambda_

from infra.iam import API_GATEWAY_PRINCIPAL
from infra.integration_secret import request_parameters
from infra.lambda_routes import LAMBDA_INTEGRATION_URI, add_invoke_permission, lambda_integration
from infra.options import API_KEY_SELECTION, IDENTITY_SOURCES, SynthOptions
from shared.names import EXECUTE_API_ARN_SUB, SERVICE_PORT, StackNames
from shared.request_templates import TEMPLATE_SELECTION_EXPRESSION, request_templates
from shared.routes import CONNECT, DISCONNECT, ROUTE_SELECTION_EXPRESSION, Route
from shared.schema_export import gateway_schemas

MOCK_TEMPLATE = '{"statusCode": 200}'
"""The MOCK request template; without ``statusCode`` API Gateway fails with a config error."""
MOCK_REPLY = '{"routeKey": "$context.routeKey", "connectionId": "$context.connectionId"}'
"""What a MOCK two-way route answers: enough to see routing work, as the tutorial's step 1."""
PASSTHROUGH_REPLY = "$input.body"
"""The integration response template of a replying HTTP route: the service's body, as is.

A non-proxy integration needs an integration response (without one API Gateway logs "No
match for output mapping and no default output mapping configured"), and a route response
to send anything back: https://docs.aws.amazon.com/apigateway/latest/developerguide/
apigateway-websocket-api-integration-responses.html and .../apigateway-websocket-api-route-
response.html. The service answers 204 with no body when it has nothing for the sender."""
INTEGRATION_TIMEOUT_MS = 29_000


def logical_name(route: Route) -> str:
    """``$connect`` -> ``Connect``, ``joinroom`` -> ``Joinroom``: readable, stable ids."""
    return "".join(part.title() for part in route.key.strip("$").replace("-", "_").split("_"))


@dataclass
class WebSocketApi:
    api: apigatewayv2.Api
    routes: list[apigatewayv2.Route]
    authorizer: apigatewayv2.Authorizer | None
    """None only with ``SynthOptions.open_connect`` (the tutorial's first steps)."""
    deployment_inputs: list[AWSObject]


def add_api(template: Template, options: SynthOptions) -> WebSocketApi:
    api = template.add_resource(
        apigatewayv2.Api(
            "WebSocketApi",
            Name=Sub(StackNames.in_template().api),
            ProtocolType="WEBSOCKET",
            RouteSelectionExpression=ROUTE_SELECTION_EXPRESSION,
            ApiKeySelectionExpression=API_KEY_SELECTION[options.api_key_source],
            Description="wsgate chat (generated from shared/routes.py)",
        )
    )
    authorizer = _add_authorizer(template, api, options)
    # The API and its authorizer are deployed configuration too (key source, identity
    # sources, Lambda ARN): hashing them makes each change a new Deployment.
    inputs: list[AWSObject] = [api] + ([authorizer] if authorizer is not None else [])
    models = _add_models(template, api, options)
    inputs.extend(models.values())
    routes = []
    for route in options.routes:
        resource, route_inputs = _add_route(template, api, route, options, authorizer, models)
        routes.append(resource)
        inputs.extend(route_inputs)
    return WebSocketApi(api=api, routes=routes, authorizer=authorizer, deployment_inputs=inputs)


def _add_models(
    template: Template, api: apigatewayv2.Api, options: SynthOptions
) -> dict[str, apigatewayv2.Model]:
    """One Model per request schema the routes validate, by model name."""
    return {
        name: template.add_resource(
            apigatewayv2.Model(
                f"{name}Model",
                ApiId=Ref(api),
                Name=name,
                ContentType="application/json",
                Schema=schema.schema,
            )
        )
        for name, schema in gateway_schemas(options.routes).items()
    }


def _add_route(
    template: Template,
    api: apigatewayv2.Api,
    route: Route,
    options: SynthOptions,
    authorizer: apigatewayv2.Authorizer | None,
    models: Mapping[str, apigatewayv2.Model],
) -> tuple[apigatewayv2.Route, list[AWSObject]]:
    """A route with its integration (and their responses when it replies): the route and
    every resource its Deployment must hash."""
    integration = template.add_resource(_integration(route, api, options))
    inputs: list[AWSObject] = [integration]
    mock = options.integration == "mock"
    on_lambda = route.backend == "lambda" and not mock
    if on_lambda:
        add_invoke_permission(template, logical_name(route), route, options)
    two_way = route.reply or (mock and route.key not in (CONNECT, DISCONNECT))
    # A Lambda proxy integration answers with its own response: no integration response.
    if mock or (two_way and not on_lambda):
        inputs.append(_add_integration_response(template, api, route, integration, two_way, mock))
    props = _route_properties(route, api, integration, authorizer, two_way)
    resource = template.add_resource(apigatewayv2.Route(f"{logical_name(route)}Route", **props))
    if route.model_name:
        resource.DependsOn = [models[route.model_name].title]
    inputs.append(resource)
    if two_way:
        inputs.append(
            template.add_resource(
                apigatewayv2.RouteResponse(
                    f"{logical_name(route)}RouteResponse",
                    ApiId=Ref(api),
                    RouteId=Ref(resource),
                    RouteResponseKey="$default",
                )
            )
        )
    return resource, inputs


def _add_integration_response(
    template: Template,
    api: apigatewayv2.Api,
    route: Route,
    integration: apigatewayv2.Integration,
    two_way: bool,
    mock: bool,
) -> apigatewayv2.IntegrationResponse:
    """A MOCK needs one to answer at all; a two-way route's carries the reply template."""
    response: dict[str, Any] = {}
    if two_way:
        response = {
            "ResponseTemplates": {"$default": MOCK_REPLY if mock else PASSTHROUGH_REPLY},
            "TemplateSelectionExpression": TEMPLATE_SELECTION_EXPRESSION,
        }
    return template.add_resource(
        apigatewayv2.IntegrationResponse(
            f"{logical_name(route)}IntegrationResponse",
            ApiId=Ref(api),
            IntegrationId=Ref(integration),
            IntegrationResponseKey="$default",
            **response,
        )
    )


def _route_properties(
    route: Route,
    api: apigatewayv2.Api,
    integration: apigatewayv2.Integration,
    authorizer: apigatewayv2.Authorizer | None,
    two_way: bool,
) -> dict[str, Any]:
    """The Route's properties as the table entry asks (authorizer, API key, model, reply)."""
    props: dict[str, Any] = {
        "ApiId": Ref(api),
        "RouteKey": route.key,
        "Target": Join("/", ["integrations", Ref(integration)]),
        "OperationName": logical_name(route),
    }
    if route.authorizer:
        props["AuthorizationType"] = "NONE" if authorizer is None else "CUSTOM"
        if authorizer is not None:
            props["AuthorizerId"] = Ref(authorizer)
    if route.api_key_required:
        props["ApiKeyRequired"] = True
    if route.model_name:
        props["ModelSelectionExpression"] = ROUTE_SELECTION_EXPRESSION
        props["RequestModels"] = {route.key: route.model_name}
    if two_way:
        props["RouteResponseSelectionExpression"] = "$default"
    return props


def _add_authorizer(
    template: Template, api: Any, options: SynthOptions
) -> apigatewayv2.Authorizer | None:
    """The ``$connect`` REQUEST authorizer and the permission for API Gateway to invoke it.

    The ARN is written into the template rather than taken as a parameter: a parameter's value
    never reaches the Deployment's logical id, so setting it on an existing stack would leave
    the stage serving the old (unauthorized) snapshot.
    """
    if options.authorizer_arn is None:
        return None
    props: dict[str, Any] = {
        "ApiId": Ref(api),
        "Name": "wsgate-token",
        "AuthorizerType": "REQUEST",
        "AuthorizerUri": Sub(LAMBDA_INTEGRATION_URI, Function=options.authorizer_arn),
    }
    identity = IDENTITY_SOURCES[options.identity_source]
    if identity:
        props["IdentitySource"] = identity
    authorizer = template.add_resource(apigatewayv2.Authorizer("ConnectAuthorizer", **props))
    template.add_resource(
        lambda_.Permission(
            "AuthorizerInvokePermission",
            Action="lambda:InvokeFunction",
            FunctionName=options.authorizer_arn,
            Principal=API_GATEWAY_PRINCIPAL,
            SourceArn=Sub(EXECUTE_API_ARN_SUB + "${WebSocketApi}/authorizers/${ConnectAuthorizer}"),
        )
    )
    return authorizer


def _integration(route: Route, api: Any, options: SynthOptions) -> apigatewayv2.Integration:
    props: dict[str, Any] = {
        "ApiId": Ref(api),
        "Description": route.description or route.key,
        "TemplateSelectionExpression": TEMPLATE_SELECTION_EXPRESSION,
        "PassthroughBehavior": "NEVER",
    }
    name = f"{logical_name(route)}Integration"
    if options.integration == "mock":
        props |= {"IntegrationType": "MOCK", "RequestTemplates": {"$default": MOCK_TEMPLATE}}
        return apigatewayv2.Integration(name, **props)
    if route.backend == "lambda":
        return lambda_integration(name, route, api, options)
    props |= {
        "IntegrationType": "HTTP",
        "IntegrationMethod": route.method,
        "RequestTemplates": request_templates(route.integration_model),
        "TimeoutInMillis": INTEGRATION_TIMEOUT_MS,
    }
    props["RequestParameters"] = request_parameters()
    if options.connection_id_header:
        props["RequestParameters"]["integration.request.header.connectionId"] = (
            "context.connectionId"
        )
    if options.integration == "http":
        props["IntegrationUri"] = f"{options.backend_url}{route.path}"
    else:
        props |= {
            "ConnectionType": "VPC_LINK",
            "ConnectionId": "${stageVariables.vpcLinkId}",
            "IntegrationUri": Join(
                "",
                [
                    "http://",
                    GetAtt("ServiceLoadBalancer", "DNSName"),
                    f":{SERVICE_PORT}{route.path}",
                ],
            ),
        }
    return apigatewayv2.Integration(name, **props)


def deployment_id(inputs: list[AWSObject], stage_variables: Mapping[str, Any] | None = None) -> str:
    """A Deployment logical id that changes whenever what it deploys changes.

    CloudFormation only creates a new deployment when the Deployment resource is replaced;
    with a fixed id, an updated route or template would never reach the stage. The inputs
    reference no template parameter (a parameter's value is never part of the hash), which
    ``tests/infra/test_template.py`` checks; the stage variables' definitions are hashed too,
    so a route reading a new variable cannot run against an old snapshot.
    """
    digest = hashlib.sha256()
    for resource in sorted(inputs, key=lambda r: r.title):
        digest.update(resource.title.encode())
        digest.update(json.dumps(resource.to_dict(), sort_keys=True).encode())
    if stage_variables:
        digest.update(json.dumps(encode_to_dict(dict(stage_variables)), sort_keys=True).encode())
    return f"Deployment{digest.hexdigest()[:10]}"
