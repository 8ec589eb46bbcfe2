"""The service's integration routes, over real HTTP, with DynamoDB on moto's server."""

from __future__ import annotations

import json
from typing import Any

import boto3

from shared.routes import lambda_routes, service_routes
from tests.service.conftest import Service
from tests.support.moto import CREDENTIALS, REGION


def _item(service: Service, endpoint: str, connection_id: str) -> dict[str, Any] | None:
    table = boto3.resource(
        "dynamodb", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS
    ).Table(service.table_name)
    item: dict[str, Any] | None = table.get_item(Key={"connectionId": connection_id}).get("Item")
    return item


def _frames(service: Service, connection_id: str) -> list[Any]:
    return [json.loads(raw) for raw in service.endpoint.received[connection_id]]


async def test_every_route_in_the_table_is_served(service: Service) -> None:
    for route in service_routes():
        status, body = await service.call(route.method, route.path, b"{}")
        assert status == 400, route.key  # reachable, and the empty body is refused
        assert body["message"] == "Invalid request body"
    for route in lambda_routes():
        status, _ = await service.call(route.method, route.path, b"{}")
        assert status == 404, route.key  # a Chalice function serves it, not the fleet


async def test_connect_stores_the_record_with_ttl(service: Service, dynamodb_endpoint: str) -> None:
    await service.connect("conn-a=", "alice")
    item = _item(service, dynamodb_endpoint, "conn-a=")
    assert item is not None
    assert item["userId"] == "alice"
    assert item["sourceIp"] == "127.0.0.1"
    assert int(item["expiresAt"]) == 1_700_000_000 + 7200


async def test_disconnect_is_idempotent(service: Service, dynamodb_endpoint: str) -> None:
    await service.connect("conn-b=", "bob")
    for _ in range(2):
        status, _ = await service.call("DELETE", "/disconnect", service.body("conn-b="))
        assert status == 200
    assert _item(service, dynamodb_endpoint, "conn-b=") is None


async def test_join_tells_the_room_and_message_reaches_exactly_the_room(service: Service) -> None:
    for cid, user in [("a=", "alice"), ("b=", "bob"), ("c=", "carol")]:
        await service.connect(cid, user)
    assert (await service.join("a=", "alice", "devs"))[0] == 200
    assert (await service.join("b=", "bob", "devs"))[0] == 200
    assert (await service.join("c=", "carol", "design"))[0] == 200
    assert _frames(service, "a=") == [
        {"type": "joined", "room": "devs", "user": "alice"},
        {"type": "joined", "room": "devs", "user": "bob"},
    ]
    # A "from" in the payload is ignored: the sender is the authorizer's principal.
    status, _ = await service.send(
        "a=", "alice", {"action": "sendmessage", "message": "hi", "from": "mallory"}
    )
    assert status == 200
    for cid in ("a=", "b="):
        last = _frames(service, cid)[-1]
        assert (last["type"], last["from"], last["room"], last["message"]) == (
            "message",
            "alice",
            "devs",
            "hi",
        )
    assert [f["type"] for f in _frames(service, "c=")] == ["joined"]


async def test_join_for_an_unknown_connection_is_404_and_creates_nothing(
    service: Service, dynamodb_endpoint: str
) -> None:
    """No record and no open connection: no one to tell, so the 404 stands."""
    status, body = await service.join("ghost=", "alice", "devs")
    assert status == 404
    assert "not connected" in body["message"]
    assert _item(service, dynamodb_endpoint, "ghost=") is None


async def test_send_without_a_room_gets_an_error_frame(service: Service) -> None:
    await service.connect("lonely=", "dave")
    status, _ = await service.send("lonely=", "dave", {"action": "sendmessage", "message": "x"})
    assert status == 200
    (frame,) = _frames(service, "lonely=")
    assert frame["type"] == "error"
    assert "joinroom" in frame["message"]


async def test_default_sends_the_help_frame(service: Service) -> None:
    await service.connect("lost=", "erin")
    status, _ = await service.call("POST", "/default", service.body("lost=", body="garbage"))
    assert status == 200
    (frame,) = _frames(service, "lost=")
    assert frame["type"] == "help"
    assert frame["actions"] == {
        "joinroom": ["roomname"],
        "sendmessage": ["message"],
        "listrooms": [],
    }


async def test_gone_connections_are_deleted_during_fan_out(
    service: Service, dynamodb_endpoint: str
) -> None:
    await service.connect("live=", "alice")
    await service.connect("dead=", "bob")
    await service.join("live=", "alice", "r")
    await service.join("dead=", "bob", "r")
    service.endpoint.open_ids.discard("dead=")  # the client vanished without $disconnect
    await service.send("live=", "alice", {"action": "sendmessage", "message": "anyone?"})
    assert _item(service, dynamodb_endpoint, "dead=") is None
    assert _item(service, dynamodb_endpoint, "live=") is not None


async def test_bad_input_is_a_400_naming_each_field(service: Service) -> None:
    await service.connect("bad=", "alice")
    status, body = await service.call("POST", "/joinroom", b"{not json")
    assert status == 400
    assert body["message"].startswith("Invalid JSON")

    # The connection is not open at the gateway, so no one can be told: a plain 400.
    service.endpoint.open_ids.discard("bad=")
    status, body = await service.join("bad=", "alice", 'a"b')
    assert status == 400
    assert [e["loc"] for e in body["errors"]] == ["payload.roomname"]

    status, body = await service.send("bad=", "alice", {"action": "sendmessage", "message": 1})
    assert status == 400
    assert [e["loc"] for e in body["errors"]] == ["payload.message"]

    status, body = await service.call("POST", "/sendmessage", service.body("bad="))
    assert status == 400
    assert {"loc": "payload", "msg": "Field required"} in body["errors"]
    assert "Traceback" not in json.dumps(body)


async def test_health_and_ready(service: Service) -> None:
    assert (await service.call("GET", "/health", None))[0] == 200
    status, body = await service.call("GET", "/ready", None)
    assert (status, body["table"]) == (200, service.table_name)


async def test_a_sender_without_a_record_is_told_and_the_answer_is_2xx(service: Service) -> None:
    """The store lost the record but the connection is open: an error frame, then 200, so the
    gateway adds nothing of its own."""
    service.endpoint.open_ids.add("lost-record=")
    for call in (
        service.send("lost-record=", "zoe", {"action": "sendmessage", "message": "hello?"}),
        service.join("lost-record=", "zoe", "devs"),
    ):
        status, body = await call
        assert (status, body["toldSender"]) == (200, True)
    frames = _frames(service, "lost-record=")
    assert [f["type"] for f in frames] == ["error", "error"]
    assert "Reconnect" in frames[0]["message"]


async def test_a_refused_message_is_told_to_its_open_sender(service: Service) -> None:
    await service.connect("nul=", "yan")
    status, body = await service.send("nul=", "yan", {"action": "sendmessage", "message": "a\0"})
    assert (status, body["errors"]) == (
        200,
        [{"loc": "payload.message", "msg": "must not contain NUL characters"}],
    )
    (frame,) = _frames(service, "nul=")
    assert frame == {
        "type": "error",
        "message": "Your message was refused: payload.message: must not contain NUL characters",
    }
