"""The selection-expression evaluator, against the examples AWS documents.

Sources:
- rules common to every expression (``$``, ``${...}``, several variables, ``\\$``, ``/regex/``):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-selection-expressions.html
- the route-selection table (``${request.body.service}/${request.body.action}`` -> ``chat/join``,
  a missing path -> ``""``, arrays stringified):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import pytest

from wsgate.gateway.selection import (
    NOT_JSON,
    SelectionInput,
    evaluate,
    key_matches,
    parse_body,
    select_key,
    select_response_key,
    select_route,
)

BODY = {"service": "chat", "action": "join", "a": {"b": "deep"}, "list": [1, "x"], "flag": True}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$request.body.action", "join"),
        ("${request.body.action}", "join"),
        ("${request.body.service}/${request.body.action}", "chat/join"),
        ("${request.body.action}-${request.body.invalidPath}", "join-"),
        ("action", "action"),
        ("\\$default", "$default"),
        ("$request.body.a.b", "deep"),
        ("${request.body.a.b}", "deep"),
        ("${request.body.list}", "[1, x]"),
        ("${request.body.flag}", "true"),
        ("${request.body.version}-beta", "-beta"),
        ("$request.body.missing", ""),
    ],
)
def test_documented_route_selection_examples(expression: str, expected: str) -> None:
    assert evaluate(expression, SelectionInput(body=BODY)) == expected


def test_each_variable_is_evaluated_once() -> None:
    """A value that looks like an expression is not evaluated again (no recursion)."""
    given = SelectionInput(body={"action": "${request.body.x}", "x": "no"})
    assert evaluate("${request.body.action}", given) == "${request.body.x}"


def test_integration_response_variables() -> None:
    given = SelectionInput(body=BODY, status=502, response_headers={"X-Kind": "retry"})
    assert evaluate("${integration.response.statuscode}", given) == "502"
    assert evaluate("$integration.response.statuscode", given) == "502"
    assert evaluate("${integration.response.header.x-kind}", given) == "retry"


def test_non_json_selects_nothing() -> None:
    assert evaluate("$request.body.action", SelectionInput(body=NOT_JSON)) == ""
    assert parse_body("not json") is NOT_JSON


def test_route_selection_falls_back_to_default() -> None:
    keys = {"join", "$default", "$connect"}
    assert select_route("${request.body.action}", BODY, keys, "$default") == "join"
    assert select_route("$request.body.a.b", BODY, keys, "$default") == "$default"
    assert select_route("$request.body.action", NOT_JSON, keys, "$default") == "$default"
    # Predefined routes are never reached by selection.
    assert select_route("$request.body.r", {"r": "$connect"}, keys, "$default") == "$default"
    assert select_route("$request.body.r", {"r": "x"}, {"join"}, "$default") is None


def test_select_key_uses_default_only_as_fallback() -> None:
    keys = {"email": 1, "$default": 2}
    given = SelectionInput(body={"messageType": "email"})
    assert select_key(keys, "${request.body.messageType}", given) == "email"
    assert select_key(keys, "${request.body.other}", given) == "$default"
    assert select_key({"email": 1}, "${request.body.other}", given) is None
    assert select_key({"$default": 1}, None, given) == "$default"


def test_response_keys_match_by_pattern_then_default() -> None:
    keys = ["$default", "/2\\d\\d/", "/4\\d\\d/"]
    assert select_response_key(keys, 204) == "/2\\d\\d/"
    assert select_response_key(keys, 404) == "/4\\d\\d/"
    assert select_response_key(keys, 503) == "$default"
    assert select_response_key(["/2\\d\\d/"], 503) is None
    assert key_matches("/5\\d\\d/", "500") and not key_matches("/5\\d\\d/", "5000")
    assert not key_matches("/(/", "x")  # a broken pattern matches nothing instead of raising
