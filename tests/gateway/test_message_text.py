"""Body parsing and frame encoding for hostile text (pure functions)."""

from __future__ import annotations

from wsgate.gateway.message_text import utf8
from wsgate.gateway.selection import NOT_JSON, parse_body


def test_nesting_beyond_the_parser_is_not_json() -> None:
    assert parse_body("[" * 100_000 + "]" * 100_000) is NOT_JSON
    assert parse_body('{"action": "x"}') == {"action": "x"}


def test_lone_surrogates_encode_as_question_marks() -> None:
    assert utf8("a\ud800b") == b"a?b"
    assert utf8("é😀") == "é😀".encode()


def test_patterns_see_a_lone_surrogate_as_one_non_ascii_character() -> None:
    from wsgate.gateway.validation import ecma_search

    assert not ecma_search("^[A-Za-z0-9_-]{1,64}$", "\ud800")
    assert ecma_search("^[^a]$", "\ud800")
    assert ecma_search("^x[^a]y$", "x\udfffy")


def test_deep_values_neither_select_a_route_nor_crash_validation() -> None:
    from wsgate.gateway.selection import select_route
    from wsgate.gateway.validation import RequestValidator

    deep = parse_body('{"action": ' + "[" * 600 + "]" * 600 + "}")
    assert deep is not NOT_JSON
    assert select_route("$request.body.action", deep, {"$default", "x"}, "$default") == "$default"
    schema = {"type": "object", "properties": {"action": {"type": "string"}}}
    verdict = RequestValidator({"M": schema}).check(None, {"$default": "M"}, deep)
    assert not verdict.valid
