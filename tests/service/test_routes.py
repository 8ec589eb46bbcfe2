"""The service's integration routes, over real HTTP, with DynamoDB on moto's server."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from ec2_service.handlers import HANDLERS, Outcome
from shared.names import INTEGRATION_SECRET_HEADER
from shared.routes import ROUTES, lambda_routes, service_routes
from tests.service.conftest import SECRET, Service
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
    # The joiner's own "joined" is its reply; the others get it pushed.
    joined = {"type": "joined", "room": "devs", "user": "alice"}
    assert await service.join("a=", "alice", "devs") == (200, joined)
    assert (await service.join("b=", "bob", "devs"))[0] == 200
    assert (await service.join("c=", "carol", "design"))[0] == 200
    assert _frames(service, "a=") == [{"type": "joined", "room": "devs", "user": "bob"}]
    # A "from" in the payload is ignored: the sender is the authorizer's principal.
    status, reply = await service.send(
        "a=", "alice", {"action": "sendmessage", "message": "hi", "from": "mallory"}
    )
    assert status == 200
    for last in (reply, _frames(service, "b=")[-1]):
        assert (last["type"], last["from"], last["room"], last["message"]) == (
            "message",
            "alice",
            "devs",
            "hi",
        )
    assert len(_frames(service, "a=")) == 1  # its own message came back as the reply
    assert _frames(service, "c=") == []


def test_every_message_route_replies_and_the_lifecycle_routes_do_not() -> None:
    """Frames for the sender alone travel back on the route response of these routes."""
    for route in ROUTES:
        assert route.reply == (route.key not in ("$connect", "$disconnect")), route.key


async def test_join_for_an_unknown_connection_replies_and_creates_nothing(
    service: Service, dynamodb_endpoint: str
) -> None:
    """No record: the reply tells the sender (no push: it reaches whoever sent it)."""
    status, frame = await service.join("ghost=", "alice", "devs")
    assert (status, frame["type"]) == (200, "error")
    assert "Reconnect" in frame["message"]
    assert _item(service, dynamodb_endpoint, "ghost=") is None
    assert service.endpoint.attempts == {}  # no @connections call at all


async def test_send_without_a_room_replies_with_an_error_frame(service: Service) -> None:
    await service.connect("lonely=", "dave")
    status, frame = await service.send("lonely=", "dave", {"action": "sendmessage", "message": "x"})
    assert (status, frame["type"]) == (200, "error")
    assert "joinroom" in frame["message"]
    assert _frames(service, "lonely=") == []


async def test_default_replies_with_the_help_frame(service: Service) -> None:
    await service.connect("lost=", "erin")
    status, frame = await service.call("POST", "/default", service.body("lost=", body="garbage"))
    assert (status, frame["type"]) == (200, "help")
    expected = {r.key: list(r.fields) for r in ROUTES if not r.is_predefined}
    assert frame["actions"] == expected
    assert service.endpoint.attempts == {}


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


async def test_bad_input_is_refused_naming_each_field(service: Service) -> None:
    await service.connect("bad=", "alice")
    status, body = await service.call("POST", "/joinroom", b"{not json")
    assert status == 400
    assert body["message"].startswith("Invalid JSON")

    # The client's part is wrong: the reply names the field, whether or not the connection is
    # open at the gateway (the reply goes back on the sender's own request).
    service.endpoint.open_ids.discard("bad=")
    for call, field in (
        (service.join("bad=", "alice", 'a"b'), "payload.roomname"),
        (service.send("bad=", "alice", {"action": "sendmessage", "message": 1}), "payload.message"),
        (service.call("POST", "/sendmessage", service.body("bad=")), "payload: Field required"),
    ):
        status, frame = await call
        assert (status, frame["type"]) == (200, "error")
        assert field in frame["message"]

    # What the gateway's template supplies is wrong: a 400 naming the field, never a frame.
    status, body = await service.call(
        "POST",
        "/sendmessage",
        service.body(
            "bad=", requestTimeEpoch="soon", payload={"action": "sendmessage", "message": "x"}
        ),
    )
    assert status == 400
    assert [e["loc"] for e in body["errors"]] == ["requestTimeEpoch"]
    assert "Traceback" not in json.dumps(body)


async def test_health_and_ready(service: Service) -> None:
    assert (await service.call("GET", "/health", None))[0] == 200
    status, body = await service.call("GET", "/ready", None)
    assert (status, body["table"]) == (200, service.table_name)


async def test_a_sender_without_a_record_is_told_and_the_answer_is_2xx(service: Service) -> None:
    """The store lost the record but the connection is open: an error frame as the reply, so
    the gateway adds nothing of its own."""
    for call in (
        service.send("lost-record=", "zoe", {"action": "sendmessage", "message": "hello?"}),
        service.join("lost-record=", "zoe", "devs"),
    ):
        status, frame = await call
        assert (status, frame["type"]) == (200, "error")
        assert "Reconnect" in frame["message"]
    assert service.endpoint.attempts == {}


async def test_a_refused_message_is_told_to_its_sender(service: Service) -> None:
    await service.connect("nul=", "yan")
    status, frame = await service.send("nul=", "yan", {"action": "sendmessage", "message": "a\0"})
    assert status == 200
    assert frame == {
        "type": "error",
        "message": "Your message was refused: payload.message: must not contain NUL characters",
    }
    assert _frames(service, "nul=") == []


@pytest.fixture
def quiet_sendmessage(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replying route whose handler has nothing for the sender (set before the app is built)."""

    async def quiet(request: Any, backends: Any) -> Outcome:
        return Outcome()

    monkeypatch.setitem(HANDLERS, "sendmessage", quiet)


async def test_a_replying_route_with_nothing_to_say_answers_204_without_a_body(
    quiet_sendmessage: None, service: Service
) -> None:
    """No body means no frame: the gateway sends a two-way route's answer only when it has one."""
    async with service.http.post(
        service.url + "/sendmessage",
        data=json.dumps(service.body("q=", payload={"action": "sendmessage", "message": "x"})),
        headers={"Content-Type": "application/json", INTEGRATION_SECRET_HEADER: SECRET},
    ) as response:
        assert (response.status, await response.read()) == (204, b"")
