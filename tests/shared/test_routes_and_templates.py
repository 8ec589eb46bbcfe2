"""The route table and the request templates derived from it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.client_messages import ClientMessage, JoinRoom, SendMessage
from shared.integration_models import (
    ConnectRequest,
    MessageRequest,
    Source,
    field_sources,
)
from shared.routes import (
    ROUTES,
    Route,
    client_models,
    get_route,
    lambda_routes,
    route_table,
    service_routes,
)
from wsgate.gateway.vtl import escape_javascript, render


def context_for(route: Route, **overrides: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "connectionId": "L0SM9cOFvHcCIhw=",
        "requestId": "L0SM9FBqvHcFhQw=",
        "routeKey": route.key,
        "eventType": "MESSAGE",
        "apiId": "abcdef1234",
        "stage": "prod",
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "requestTimeEpoch": 1_700_000_000_123,
        "connectedAt": 1_700_000_000_000,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "wscat"},
        "authorizer": {"principalId": "alice", "name": "Alice"},
    }
    ctx.update(overrides)
    return ctx


STAGE_VARIABLES = {"region": "us-east-1", "tableName": "wsgate-connections", "vpcLinkId": "x"}


def test_table_has_the_tutorials_routes() -> None:
    table = route_table(service_routes())
    assert list(table) == ["$connect", "$disconnect", "$default", "joinroom", "sendmessage"]
    assert [r.key for r in lambda_routes()] == ["listrooms"]
    assert [(r.method, r.path) for r in service_routes()] == [
        ("POST", "/connect"),
        ("DELETE", "/disconnect"),
        ("POST", "/default"),
        ("POST", "/joinroom"),
        ("POST", "/sendmessage"),
    ]
    assert [r.key for r in ROUTES if r.authorizer] == ["$connect"]
    assert [r.key for r in ROUTES if r.api_key_required] == ["$connect"]
    assert client_models(service_routes()) == {"JoinRoom": JoinRoom, "SendMessage": SendMessage}


def test_table_rejects_what_api_gateway_rejects() -> None:
    with pytest.raises(ValueError, match="may not start with"):
        Route(key="$custom", method="POST", path="/x", integration_model=ConnectRequest)
    with pytest.raises(ValueError, match="\\$connect only"):
        Route(
            key="joinroom",
            method="POST",
            path="/x",
            integration_model=ConnectRequest,
            authorizer=True,
        )
    dup = (ROUTES[0], ROUTES[0])
    with pytest.raises(ValueError, match="declared twice"):
        route_table(dup)
    with pytest.raises(KeyError, match="routes are"):
        get_route("nope")


def test_every_integration_field_declares_its_source() -> None:
    for route in ROUTES:
        sources = field_sources(route.integration_model)
        assert sources["connectionId"] == Source("$context.connectionId", "verbatim")

    class Undeclared(BaseModel):
        connectionId: str

    with pytest.raises(TypeError, match="no Source annotation"):
        field_sources(Undeclared)


@pytest.mark.parametrize("route", service_routes(), ids=lambda r: r.key)
def test_each_template_renders_json_its_model_parses(route: Route) -> None:
    body = {
        "joinroom": '{"action":"joinroom","roomname":"developers"}',
        "sendmessage": '{"action":"sendmessage","message":"hello"}',
    }.get(route.key, "not json at all")
    rendered = render(
        route.request_template,
        context=context_for(route),
        stage_variables=STAGE_VARIABLES,
        body=body,
    )
    parsed = route.integration_model.model_validate_json(rendered)
    assert parsed.connectionId == "L0SM9cOFvHcCIhw="
    assert parsed.userId == "alice"
    assert parsed.region == "us-east-1" and parsed.tableName == "wsgate-connections"
    if route.client_model is not None:
        assert isinstance(getattr(parsed, "payload"), route.client_model)  # noqa: B009


def test_adding_a_route_needs_only_a_model_and_an_entry() -> None:
    class Shout(ClientMessage):
        action: str = "shout"
        volume: int

    route = Route(
        key="shout",
        method="POST",
        path="/shout",
        integration_model=MessageRequest[Shout],
        client_model=Shout,
    )
    assert route.fields == ("volume",)
    rendered = render(
        route.request_template,
        context=context_for(route),
        stage_variables=STAGE_VARIABLES,
        body='{"action":"shout","volume":11}',
    )
    assert json.loads(rendered)["payload"] == {"action": "shout", "volume": 11}
    assert client_models((*ROUTES, route))["Shout"] is Shout


hostile_text = st.text(
    alphabet=st.sampled_from(list("ab\"'\\/\n\r\t\u0000\u001f\u007f\u2028é😀$#{}")), max_size=30
)


@settings(max_examples=300, deadline=None)
@given(user=hostile_text, name=hostile_text, agent=hostile_text, room=hostile_text)
def test_client_controlled_strings_cannot_break_the_json(
    user: str, name: str, agent: str, room: str
) -> None:
    connect = get_route("$connect")
    ctx = context_for(
        connect,
        authorizer={"principalId": user, "name": name},
        identity={"sourceIp": "10.0.0.1", "userAgent": agent},
    )
    parsed = ConnectRequest.model_validate_json(
        render(connect.request_template, context=ctx, stage_variables=STAGE_VARIABLES)
    )
    assert (parsed.userId, parsed.userName, parsed.userAgent) == (user, name, agent)

    default = get_route("$default")
    rendered = render(
        default.request_template,
        context=context_for(default),
        stage_variables=STAGE_VARIABLES,
        body=room,
    )
    assert json.loads(rendered)["body"] == room

    join = get_route("joinroom")
    payload = json.dumps({"action": "joinroom", "roomname": room})
    rendered = render(
        join.request_template,
        context=context_for(join),
        stage_variables=STAGE_VARIABLES,
        body=payload,
    )
    assert json.loads(rendered)["payload"]["roomname"] == room


def test_escape_javascript_matches_java() -> None:
    assert escape_javascript('it\'s "q" a/b\\') == 'it\\\'s \\"q\\" a\\/b\\\\'
    assert escape_javascript("é😀\u007f\u0001") == "\\u00E9\\uD83D\\uDE00\u007f\\u0001"
    assert escape_javascript(None) is None


def test_missing_values_render_empty_not_as_expression_text() -> None:
    connect = get_route("$connect")
    ctx = context_for(connect)
    del ctx["authorizer"]
    parsed = json.loads(render(connect.request_template, context=ctx, stage_variables={}))
    assert parsed["userId"] == "" and parsed["userName"] == "" and parsed["region"] == ""
