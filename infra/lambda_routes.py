"""Lambda-backed routes: an ``AWS_PROXY`` integration and the permission to invoke it.

The function is the Chalice function the route names (``chalice deploy`` creates it); its ARN
is written into the template, not passed as a parameter, so that pointing a route at another
function changes the Deployment's hash and reaches the stage. Without an ARN from Chalice's
deployed record, the ARN is derived from Chalice's naming rule (``<app>-<stage>-<name>`` in
the stack's own account and region), which is what ``chalice deploy --stage STAGE`` creates.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template, apigatewayv2
from troposphere import awslambda as lambda_

from infra.iam import API_GATEWAY_PRINCIPAL
from infra.options import SynthOptions
from shared.names import EXECUTE_API_ARN_SUB, StackNames
from shared.routes import DEFAULT, Route

LAMBDA_INTEGRATION_URI = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31"
    "/functions/${Function}/invocations"
)
"""https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-requests.html"""
INTEGRATION_TIMEOUT_MS = 29_000


def function_arn(route: Route, options: SynthOptions) -> str | Sub:
    """The ARN given for the route's function, else the one Chalice's naming rule implies."""
    given = dict(options.lambda_arns).get(route.function_name)
    if given is not None:
        return given
    name = StackNames(stage=options.stage_name).function(route.function_name)
    return Sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + name)


def lambda_integration(
    name: str, route: Route, api: Any, options: SynthOptions
) -> apigatewayv2.Integration:
    """Lambda proxy: API Gateway sends the WebSocket proxy event and passes the answer on
    (no request template, no integration response: section 4.1 of the reference notes)."""
    return apigatewayv2.Integration(
        name,
        ApiId=Ref(api),
        Description=route.description or route.key,
        IntegrationType="AWS_PROXY",
        IntegrationMethod="POST",
        IntegrationUri=Sub(LAMBDA_INTEGRATION_URI, Function=function_arn(route, options)),
        TimeoutInMillis=INTEGRATION_TIMEOUT_MS,
    )


def add_invoke_permission(
    template: Template, logical_name: str, route: Route, options: SynthOptions
) -> lambda_.Permission:
    """API Gateway may invoke the function for this route only (``$default`` for any key).

    Without it every message gets ``Internal server error`` ("Invalid permissions on Lambda
    function"); the ARN form is https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
    (``execute-api:region:account:api-id/stage/route-key``)."""
    route_part = "*" if route.key == DEFAULT else route.key
    return template.add_resource(
        lambda_.Permission(
            f"{logical_name}InvokePermission",
            Action="lambda:InvokeFunction",
            FunctionName=function_arn(route, options),
            Principal=API_GATEWAY_PRINCIPAL,
            SourceArn=Sub(EXECUTE_API_ARN_SUB + f"${{WebSocketApi}}/*/{route_part}"),
        )
    )
