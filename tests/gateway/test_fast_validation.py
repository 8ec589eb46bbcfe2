"""jsonschema-rs passes a message only when jsonschema (the validator whose problems the
execution log shows) would: compared on every model of the API and on a schema using every
draft-04 keyword, with valid, mutated and hostile documents.

Request validation: https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-request-validation.html
Draft-04 validation (``pattern`` is ECMA-262):
https://json-schema.org/draft-04/draft-fge-json-schema-validation-00.pdf
"""

from __future__ import annotations

import json
import random
from typing import Any

from shared.schema_export import gateway_schemas
from tests.gateway.hostile import _mutate_document, message_routes, valid_message
from wsgate.gateway.validation import EcmaDraft4Validator, RequestValidator, fast_validator

WIDE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["s"],
    "additionalProperties": {"type": ["string", "integer", "array", "object", "null"]},
    "properties": {
        "s": {"type": "string", "minLength": 1, "maxLength": 3, "pattern": "^.[a-z]?$"},
        "w": {"type": "string", "pattern": "^\\w+$"},
        "d": {"type": "string", "pattern": "^\\d\\s?$", "format": "email"},
        "i": {"type": "integer", "minimum": 0, "maximum": 10, "exclusiveMaximum": True},
        "n": {"type": "number", "multipleOf": 0.5},
        "e": {"enum": [1, "1", None, [1]]},
        "a": {"type": "array", "items": {"type": "integer"}, "maxItems": 3, "uniqueItems": True},
        "t": {"type": "array", "items": [{"type": "string"}], "additionalItems": False},
        "o": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 2,
            "dependencies": {"x": ["y"]},
        },
        "c": {"anyOf": [{"type": "string"}, {"type": "integer"}], "not": {"enum": [0]}},
        "b": {"type": "boolean"},
        "r": {"$ref": "#/definitions/room"},
    },
    "definitions": {"room": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,4}$"}},
}

VALUES: list[Any] = [
    "",
    "a",
    "ab",
    "abcd",
    "a\n",
    "\u2028",
    "\u2028b",
    "é",
    "٣",
    "\u00a0",
    "\ufeff",
    "😀",
    "\ud800",
    "x@y.z",
    0,
    1,
    9,
    10,
    -1,
    2**70,
    1.0,
    1.5,
    0.1,
    float("inf"),
    float("nan"),
    -0.0,
    1e400,
    True,
    False,
    None,
    [],
    [1],
    [1, 1],
    [1, True],
    [1, 1.0],
    ["a", "b"],
    ["a"],
    {},
    {"x": 1},
    {"x": 1, "y": 2},
    {"y": 1},
    {"x": 1, "y": 2, "z": 3},
]


def _agree(schema: dict[str, Any], documents: list[Any]) -> int:
    """Assert jsonschema-rs never passes what jsonschema fails; return how many it passed."""
    validator = RequestValidator({"M": schema})
    reference = EcmaDraft4Validator(schema)
    passed = 0
    for document in documents:
        if validator._passes_fast("M", document):
            passed += 1
            problems = [error.message for error in reference.iter_errors(document)]
            assert not problems, (json.dumps(document, default=repr)[:200], problems)
    return passed


def test_every_api_model_agrees_on_valid_mutated_and_hostile_messages() -> None:
    schemas = gateway_schemas()
    rng = random.Random(20261125)
    for route in message_routes():
        assert route.model_name is not None
        schema = schemas[route.model_name].schema
        assert fast_validator(schema) is not None, route.key
        valid = valid_message(route)
        documents = [valid] + [_mutate_document(rng, valid) for _ in range(400)]
        documents += [valid | {name: value} for name in valid for value in VALUES]
        assert _agree(schema, documents) > 0, route.key


def test_every_draft04_keyword_agrees() -> None:
    rng = random.Random(7)
    documents: list[Any] = [{"s": value} for value in VALUES]
    for name in WIDE_SCHEMA["properties"]:
        documents += [{"s": "ab", name: value} for value in VALUES]
    documents += [
        {"s": rng.choice(VALUES), **{rng.choice("swdinaeatocbrz"): rng.choice(VALUES)}}
        for _ in range(2000)
    ]
    assert _agree(WIDE_SCHEMA, documents) > 50


def test_ecma_dot_and_line_separator_follow_regress() -> None:
    """jsonschema-rs's own regex lets ``.`` match U+2028; ECMA-262 (and API Gateway) do not."""
    schema = {"type": "string", "pattern": "^.$"}
    validator = RequestValidator({"M": schema})
    assert not validator._passes_fast("M", "\u2028")
    assert validator.check(None, {"$default": "M"}, "\u2028").problems


def test_pattern_properties_stay_with_jsonschema() -> None:
    assert fast_validator({"patternProperties": {"^a": {"type": "string"}}}) is None


def test_a_message_jsonschema_rs_passes_is_not_walked_again() -> None:
    """The fast path is real: a valid message never reaches jsonschema."""
    route = message_routes()[0]
    assert route.model_name is not None
    validator = RequestValidator({route.model_name: gateway_schemas()[route.model_name].schema})

    class Walked:
        def iter_errors(self, document: Any) -> Any:
            raise AssertionError("jsonschema walked a message jsonschema-rs passed")

    validator.validators[route.model_name] = Walked()  # type: ignore[assignment]
    verdict = validator.check(None, {"$default": route.model_name}, valid_message(route))
    assert verdict.valid
