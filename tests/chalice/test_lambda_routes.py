"""The Chalice functions behind ``backend="lambda"`` routes, against moto's DynamoDB and SSM."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from chalice_app.app import app
from chalice_app.chalicelib import lambda_routes
from shared.connections_table import PARTITION_KEY, ROOM_ATTRIBUTE
from shared.names import StackNames
from shared.routes import lambda_routes as lambda_route_table
from shared.routes import service_routes
from tests.support.moto import client, create_connections_table


def _event(body: str, route_key: str = "listrooms") -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": route_key,
            "eventType": "MESSAGE",
            "messageId": "m1",
            "requestId": "r1",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            "apiId": "abcdef1234",
            "connectedAt": 1,
            "requestTimeEpoch": 2,
            "connectionId": "L0SM9cOFvHcCIhw=",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def chat_table(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh connections table whose name the function finds in SSM, as deployed."""
    stack = f"t{secrets.token_hex(4)}"
    for name, value in {
        "AWS_ENDPOINT_URL_SSM": aws_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": aws_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "WSGATE_STACK_NAME": stack,
        "WSGATE_STAGE": "prod",
    }.items():
        monkeypatch.setenv(name, value)
    names = StackNames(stack, "prod")
    create_connections_table(aws_endpoint, names.table)
    client("ssm", aws_endpoint).put_parameter(
        Name=names.table_name_parameter, Value=names.table, Type="String", Overwrite=True
    )
    monkeypatch.setattr(lambda_routes, "_table_name", None)
    yield names.table


def _put(endpoint: str, table: str, connection_id: str, room: str | None) -> None:
    item = {PARTITION_KEY: {"S": connection_id}, "userId": {"S": connection_id}}
    if room is not None:
        item[ROOM_ATTRIBUTE] = {"S": room}
    client("dynamodb", endpoint).put_item(TableName=table, Item=item)


def test_every_lambda_route_has_a_chalice_function_and_no_service_handler() -> None:
    functions = {f.name: f for f in app.pure_lambda_functions}
    for route in lambda_route_table():
        assert route.function_name in functions, f"no Chalice function for {route.key}"
        assert route not in service_routes()


def test_listrooms_counts_members_per_room(aws_endpoint: str, chat_table: str) -> None:
    for n, room in enumerate(["dev", "dev", "ops", None, "dev"]):
        _put(aws_endpoint, chat_table, f"c{n}", room)
    listrooms = next(f for f in app.pure_lambda_functions if f.name == "listrooms")
    response = listrooms(_event('{"action": "listrooms"}'), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "type": "rooms",
        "rooms": [{"room": "dev", "members": 3}, {"room": "ops", "members": 1}],
    }


def test_listrooms_with_no_rooms_answers_an_empty_list(chat_table: str) -> None:
    response = lambda_routes.listrooms(_event('{"action": "listrooms"}'), None)
    assert json.loads(response["body"]) == {"type": "rooms", "rooms": []}


def test_a_body_the_model_refuses_is_a_400_naming_the_field() -> None:
    response = lambda_routes.listrooms(_event('{"action": "joinroom"}'), None)
    assert response["statusCode"] == 400
    problems = json.loads(response["body"])["problems"]
    assert problems[0]["loc"] == "body.action"


def test_a_function_for_a_key_the_table_does_not_serve_from_lambda_is_refused() -> None:
    with pytest.raises(lambda_routes.NotALambdaRouteError, match="backend='lambda'"):
        lambda_routes.lambda_route("joinroom")


def test_room_counts_orders_by_size_then_name() -> None:
    items = [{ROOM_ATTRIBUTE: {"S": r}} for r in ["b", "a", "c", "c"]] + [{}]
    assert lambda_routes.room_counts(items) == [
        {"room": "c", "members": 2},
        {"room": "a", "members": 1},
        {"room": "b", "members": 1},
    ]
