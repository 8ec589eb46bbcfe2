"""Body parsing and frame encoding for hostile text (pure functions)."""

from __future__ import annotations

from wsgate.gateway.message_text import parse_message, utf8
from wsgate.gateway.selection import NOT_JSON


def test_nesting_beyond_the_parser_is_not_json() -> None:
    assert parse_message("[" * 100_000 + "]" * 100_000) is NOT_JSON
    assert parse_message('{"action": "x"}') == {"action": "x"}


def test_lone_surrogates_encode_as_question_marks() -> None:
    assert utf8("a\ud800b") == b"a?b"
    assert utf8("é😀") == "é😀".encode()
