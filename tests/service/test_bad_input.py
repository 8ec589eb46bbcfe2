"""A catalogue of bad requests sent straight to the service: 4xx naming the field, never 5xx.

Each case is sent with the caller secret (so it reaches the route), to a connection the gateway
does not know (so no one can be told and the refusal is the answer), against a table holding a
victim's record that must not change.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import boto3

from shared.client_messages import MAX_MESSAGE_CHARS
from shared.integration_models import example_values
from shared.routes import service_routes
from tests.service.conftest import SECRET, Service, running, settings_for
from tests.support.moto import CREDENTIALS, REGION

SERVICE_ROUTES = service_routes()

CONNECT_FIELDS = {
    "routeKey": "$connect",
    "eventType": "CONNECT",
    "userName": "Mallory",
    "sourceIp": "10.0.0.1",
    "userAgent": "curl",
    "connectedAt": 1_700_000_000_000,
}
JOIN = {"action": "joinroom", "roomname": "devs"}
SEND = {"action": "sendmessage", "message": "hi"}


@dataclass
class Case:
    name: str
    path: str
    body: Any
    """bytes as they are, anything else as JSON; a dict is merged into a valid envelope."""
    status: int = 400
    loc: str | None = None
    """The first error's ``loc`` the answer must name, when the case is about one field."""
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def catalogue() -> list[Case]:
    cases = [
        # Every route: nothing parseable, or not an object.
        *(Case(f"{r.key} empty", r.path, b"", method=r.method) for r in SERVICE_ROUTES),
        *(Case(f"{r.key} not JSON", r.path, b"{not json", method=r.method) for r in SERVICE_ROUTES),
        *(Case(f"{r.key} null", r.path, b"null", loc="", method=r.method) for r in SERVICE_ROUTES),
        *(Case(f"{r.key} array", r.path, b"[1]", loc="", method=r.method) for r in SERVICE_ROUTES),
        Case("string", "/joinroom", b'"joinroom"', loc=""),
        Case("number", "/joinroom", b"42", loc=""),
        Case("arrays 100k deep", "/joinroom", b"[" * 100_000 + b"]" * 100_000),
        Case("objects 5k deep", "/sendmessage", b'{"a":' * 5000 + b"1" + b"}" * 5000),
        Case("payload 40 deep", "/joinroom", {"payload": JOIN | {"x": _nested(40)}}),
        Case("invalid UTF-8", "/joinroom", b'{"connectionId":"\xff\xfe"}', loc=""),
        Case("NaN", "/joinroom", b'{"requestTimeEpoch": NaN}'),
        # Text the parser accepts but nothing downstream can store or send.
        Case(
            "lone surrogate in message",
            "/sendmessage",
            {"payload": SEND | {"message": "\ud800"}},
            loc="payload.message",
        ),
        Case("lone surrogate in id", "/joinroom", {"connectionId": "\udfff="}, loc="connectionId"),
        Case("lone surrogate in a key", "/joinroom", {"payload": JOIN | {"\ud800": 1}}),
        Case("NUL in message", "/sendmessage", {"payload": SEND | {"message": "a\x00b"}}),
        Case("NUL in room", "/joinroom", {"payload": JOIN | {"roomname": "de\x00vs"}}),
        Case("NUL in user name", "/connect", CONNECT_FIELDS | {"userName": "\x00"}, loc="userName"),
        # Connection ids.
        Case("empty connectionId", "/joinroom", {"connectionId": ""}, loc="connectionId"),
        Case("3 KB connectionId", "/connect", CONNECT_FIELDS | {"connectionId": "A" * 3072}),
        Case("connectionId with a path", "/joinroom", {"connectionId": "../x"}, loc="connectionId"),
        Case("connectionId a number", "/disconnect", {"connectionId": 7}, method="DELETE"),
        # Types, missing and extra fields.
        Case("missing connectionId", "/joinroom", {"connectionId": None}, loc="connectionId"),
        Case("missing payload", "/sendmessage", {"payload": None}, loc="payload"),
        Case("extra field", "/disconnect", {"admin": True}, loc="admin", method="DELETE"),
        Case("payload a string", "/joinroom", {"payload": "devs"}, loc="payload"),
        Case("payload a list", "/joinroom", {"payload": [JOIN]}, loc="payload"),
        Case("room a number", "/joinroom", {"payload": JOIN | {"roomname": 5}}),
        Case("room too long", "/joinroom", {"payload": JOIN | {"roomname": "r" * 65}}),
        Case("room with a quote", "/joinroom", {"payload": JOIN | {"roomname": 'a"b'}}),
        Case("message empty", "/sendmessage", {"payload": SEND | {"message": ""}}),
        Case(
            "message too long",
            "/sendmessage",
            {"payload": SEND | {"message": "m" * (MAX_MESSAGE_CHARS + 1)}},
            loc="payload.message",
        ),
        Case("wrong action", "/joinroom", {"payload": JOIN | {"action": "sendmessage"}}),
        Case("$default body an object", "/default", {"body": {"a": 1}}, loc="body"),
        Case("time a string", "/joinroom", {"requestTimeEpoch": "now"}, loc="requestTimeEpoch"),
        Case("time a float", "/joinroom", {"requestTimeEpoch": 1.5}, loc="requestTimeEpoch"),
        Case("time negative", "/joinroom", {"requestTimeEpoch": -1}, loc="requestTimeEpoch"),
        Case("connectedAt 40 digits", "/connect", CONNECT_FIELDS | {"connectedAt": 10**40}),
        Case("user name 2000 chars", "/connect", CONNECT_FIELDS | {"userName": "n" * 2000}),
        Case("source ip 100 chars", "/connect", CONNECT_FIELDS | {"sourceIp": "1" * 100}),
        Case("userId a bool", "/joinroom", {"userId": True}, loc="userId"),
        # Envelope values that disagree with the configuration.
        Case("other api", "/joinroom", {"apiId": "zzzzzzzzzz"}, loc="apiId"),
        Case("bad region", "/joinroom", {"region": "nowhere"}, loc="region"),
        Case("other table", "/connect", CONNECT_FIELDS | {"tableName": "other"}, loc="tableName"),
        Case("other stage", "/joinroom", {"stage": "dev"}, loc="stage"),
        # Transport.
        Case("text/plain", "/joinroom", {}, headers={"Content-Type": "text/plain"}),
        Case(
            "form", "/joinroom", {}, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        Case("2 MB body", "/sendmessage", b"{" + b" " * (2 * 1024 * 1024) + b"}", status=413),
        Case("GET a POST route", "/joinroom", {}, status=405, method="GET"),
        Case("unknown path", "/admin", {}, status=404),
    ]
    return cases


def _body(service: Service, case: Case) -> bytes:
    if isinstance(case.body, bytes):
        return case.body
    route = next((r for r in service_routes() if r.path == case.path), None)
    base: dict[str, Any] = service.body("stranger=")
    if route is not None and route.client_model is not None:
        base["payload"] = JOIN if route.key == "joinroom" else SEND
    if case.path == "/default":
        base["body"] = "hello"
    merged = {k: v for k, v in (base | case.body).items() if v is not None}
    return json.dumps(merged).encode()


def _items(service: Service, endpoint: str) -> list[dict[str, Any]]:
    table = boto3.resource(
        "dynamodb", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS
    ).Table(service.table_name)
    return sorted(table.scan()["Items"], key=lambda item: str(item["connectionId"]))


def test_the_catalogue_is_big_enough() -> None:
    assert len(catalogue()) >= 40


async def test_bad_requests_get_4xx_naming_the_field_and_change_nothing(
    service: Service, dynamodb_endpoint: str
) -> None:
    await service.connect("victim=", "alice")
    assert (await service.join("victim=", "alice", "devs"))[0] == 200
    before = _items(service, dynamodb_endpoint)
    frames_before = {k: list(v) for k, v in service.endpoint.received.items()}
    internal_names = {r.integration_model.__name__ for r in service_routes()} | {
        r.client_model.__name__ for r in service_routes() if r.client_model
    }
    failures = []
    for case in catalogue():
        headers = {"Content-Type": "application/json"} | case.headers
        async with service.http.request(
            case.method,
            service.url + case.path,
            data=_body(service, case),
            headers=headers | {"X-Wsgate-Integration-Secret": SECRET},
        ) as response:
            text = await response.text()
            status = response.status
        answer = json.loads(text)
        problems = []
        route = next((r for r in service_routes() if r.path == case.path), None)
        if route is not None and route.reply and answer.get("type") == "error":
            # A replying route tells the sender which of its fields is wrong, as its reply.
            if (status, case.status) != (200, 400):
                problems.append(f"status {status} with a reply frame, expected {case.status}")
            if case.loc is not None and f"{case.loc}:" not in answer["message"]:
                problems.append(f"reply {answer['message']!r} does not name {case.loc!r}")
        elif status != case.status:
            problems.append(f"status {status}, expected {case.status}")
        elif case.loc is not None and (
            not answer.get("errors") or answer["errors"][0]["loc"] != case.loc
        ):
            problems.append(f"errors {answer.get('errors')}, expected loc {case.loc!r}")
        if "message" not in answer:
            problems.append("no message")
        if "Traceback" in text or any(name in text for name in internal_names):
            problems.append("internal detail in the answer")
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}: {text[:300]}")
    assert not failures, "\n".join(failures)
    assert _items(service, dynamodb_endpoint) == before
    assert {k: list(v) for k, v in service.endpoint.received.items()} == frames_before


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(ValueError):  # only the JSON lines matter here
            self.lines.append(json.loads(record.getMessage()))


async def test_the_request_log_records_the_status_sent(dynamodb_endpoint: str) -> None:
    """A handler that raises (its table does not exist) is answered and logged as 500."""
    settings = settings_for("no-such-table", dynamodb_endpoint)
    lines = _Lines()
    async with running(settings) as (url, _app), aiohttp.ClientSession() as http:
        logging.getLogger("wsgate.service").addHandler(lines)
        try:
            body = (
                example_values()
                | CONNECT_FIELDS
                | {"connectionId": "c=", "tableName": "no-such-table"}
            )
            async with http.post(
                url + "/connect",
                data=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "X-Wsgate-Integration-Secret": SECRET,
                },
            ) as response:
                assert response.status == 500
                assert await response.json() == {"message": "Internal server error"}
        finally:
            logging.getLogger("wsgate.service").removeHandler(lines)
    (line,) = [line for line in lines.lines if line.get("route") == "$connect"]
    assert line["status"] == 500
    assert line["connectionId"] == "c="


async def test_refused_callers_are_logged_with_their_status(service: Service) -> None:
    lines = _Lines()
    logging.getLogger("wsgate.service").addHandler(lines)
    try:
        status, _ = await service.call("POST", "/joinroom", service.body("x="), secret=None)
    finally:
        logging.getLogger("wsgate.service").removeHandler(lines)
    assert status == 403
    assert any(line.get("event") == "forbidden" for line in lines.lines)
    assert any(
        line.get("status") == 403 and line.get("path") == "/joinroom" for line in lines.lines
    )
