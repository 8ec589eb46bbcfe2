"""How the loader reads routes out of a template: the parts the gateway's behaviour hangs on.

A route is one-way unless it has both ``RouteResponseSelectionExpression`` and a
``RouteResponse``: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
(reference notes, section 4.5).
"""

from __future__ import annotations

from tests.gateway.templates import http_api, without
from wsgate.gateway.template_loader import load_api

PARAMETERS = {"BackendHost": "127.0.0.1"}


def test_a_route_with_expression_and_route_response_is_two_way() -> None:
    api = load_api(http_api(), parameters=PARAMETERS)
    assert api.routes["echo"].two_way
    assert not api.routes["say"].two_way


def test_the_expression_without_a_route_response_stays_one_way() -> None:
    api = load_api(without(http_api(), "EchoRouteResponse"), parameters=PARAMETERS)
    assert not api.routes["echo"].two_way


def test_usage_plan_members_are_the_keys_linked_to_it() -> None:
    api = load_api(http_api(), parameters=PARAMETERS)
    (plan,) = api.usage_plans
    assert plan.key_values == frozenset(api.api_keys.values())
    assert plan.key_values
