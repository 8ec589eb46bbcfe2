"""The draft-04 export: valid draft-04, and equivalent to the pydantic models it comes from."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.client_messages import JoinRoom, SendMessage
from shared.routes import client_models
from shared.schema_export import (
    DRAFT04_URI,
    NonPortablePatternError,
    gateway_schemas,
    to_draft04,
    write_schemas,
)
from wsgate.gateway.validation import RequestValidator

MODELS = client_models()


def draft04(model: type[BaseModel]) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(to_draft04(model).schema)


def pydantic_accepts(model: type[BaseModel], value: Any) -> bool:
    """What the service does: validate the JSON text the client sent."""
    try:
        model.model_validate_json(json.dumps(value))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", list(MODELS))
def test_every_exported_schema_is_valid_draft04(name: str) -> None:
    schema = gateway_schemas()[name].schema
    jsonschema.Draft4Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT04_URI
    assert schema["title"] == name
    assert gateway_schemas()[name].dropped == []


def test_send_message_requires_message() -> None:
    validator = draft04(SendMessage)
    assert not validator.is_valid({"action": "sendmessage"})
    assert validator.is_valid({"action": "sendmessage", "message": "hi"})
    assert not validator.is_valid({"action": "sendmessage", "message": ""})
    assert not validator.is_valid({"action": "sendmessage", "message": 1})


def test_cli_writes_one_file_per_model(tmp_path: Any) -> None:
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{name}.json" for name in MODELS)
    written = json.loads((tmp_path / "SendMessage.json").read_text())
    assert jsonschema.Draft4Validator(written).is_valid({"action": "sendmessage", "message": "x"})


# --- the conversion, keyword by keyword -----------------------------------------------------


class Inner(BaseModel):
    size: Annotated[int, Field(gt=0, lt=10)]


class Everything(BaseModel):
    model_config = ConfigDict(strict=True)

    kind: Literal["fixed"]
    inner: Inner
    maybe: str | None = None
    pair: tuple[int, str]
    ratio: Annotated[float, Field(ge=0, le=1)]


def test_conversion_rewrites_2020_12_keywords() -> None:
    converted = to_draft04(Everything)
    schema = converted.schema
    jsonschema.Draft4Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "$defs" not in text and "#/definitions/Inner" in text
    assert schema["properties"]["kind"]["enum"] == ["fixed"]
    size = schema["definitions"]["Inner"]["properties"]["size"]
    assert size == {
        "exclusiveMaximum": True,
        "exclusiveMinimum": True,
        "maximum": 10,
        "minimum": 0,
        "title": "Size",
        "type": "integer",
    }
    assert schema["properties"]["pair"]["items"] == [{"type": "integer"}, {"type": "string"}]
    validator = jsonschema.Draft4Validator(schema)
    good = {"kind": "fixed", "inner": {"size": 5}, "pair": [1, "a"], "ratio": 0.5}
    assert validator.is_valid(good)
    assert validator.is_valid({**good, "maybe": None})
    assert not validator.is_valid({**good, "inner": {"size": 0}})
    assert not validator.is_valid({**good, "inner": {"size": 10}})
    assert not validator.is_valid({**good, "kind": "other"})
    assert not validator.is_valid({**good, "pair": [1, "a", 2]})


def test_formats_draft04_lacks_are_dropped_and_reported() -> None:
    class WithDate(BaseModel):
        day: Annotated[str, Field(json_schema_extra={"format": "date"})]
        email: Annotated[str, Field(json_schema_extra={"format": "email"})]

    converted = to_draft04(WithDate)
    assert "format" not in converted.schema["properties"]["day"]
    assert converted.schema["properties"]["email"]["format"] == "email"
    assert converted.dropped == ["#/properties/day/format=date"]


# --- property test: the gateway and the service agree, for every client model ---------------
#
# The gateway validates with its own draft-04 validator (ECMA-262 patterns); the service with the
# pydantic model. Values are generated from each model's exported schema, so a model added to
# ROUTES is covered without touching this file.

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
LINE_ENDS = ["\n", "\r", "\r\n", "\u2028", "\u0000", " "]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def valid_values(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema accepts (as far as generation can aim), for the draft-04 subset
    pydantic emits for client models."""
    schema = _resolve(schema, root)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([valid_values(option, root) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
        if "pattern" in schema:  # Python's $ may add a final newline: a near-miss for free
            text = st.from_regex(schema["pattern"])
            return text.filter(lambda t: low <= len(t) <= high + 1)
        return st.text(min_size=low, max_size=min(high, low + 200))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: valid_values(v, root) for k, v in properties.items() if k in required},
            optional={k: valid_values(v, root) for k, v in properties.items() if k not in required},
        )
    if kind == "integer":
        return st.integers()
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(valid_values(schema.get("items", {}), root), max_size=3)
    return json_values


def near_misses(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values around the boundary of what one property accepts."""
    schema = _resolve(schema, root)
    valid = valid_values(schema, root)
    texts = valid.filter(lambda v: isinstance(v, str))
    around = st.one_of(
        st.tuples(texts, st.sampled_from(LINE_ENDS)).map(lambda p: p[0] + p[1]),
        st.tuples(st.sampled_from(LINE_ENDS), texts).map(lambda p: p[0] + p[1]),
        texts.map(str.upper),
        texts.map(lambda t: t + t),
    )
    high = schema.get("maxLength", 4096)
    return st.one_of(
        valid,
        around,
        st.text(max_size=80),
        st.text(min_size=max(high - 4, 0), max_size=high + 4, alphabet="ab\u00e9\U0001f600"),
        st.just(""),
        st.text(alphabet='"\\\n\u0000\u2028<>', max_size=8),
        st.integers().map(str),
        json_values,
    )


def messages(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Messages of near-miss properties (any may be absent), extra fields, arbitrary JSON."""
    properties = schema.get("properties", {})
    body = st.fixed_dictionaries(
        {},
        optional={k: near_misses(v, schema) for k, v in properties.items()}
        | {"from": st.text(max_size=5), "extra": json_values},
    )
    return st.one_of(valid_values(schema, schema), body, json_values)


def pointed_messages(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid message with exactly one property replaced by a near-miss value or dropped."""
    properties = schema.get("properties", {})
    misses = {name: near_misses(sub, schema) for name, sub in properties.items()}

    def edit(base: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
        dropped = {k: v for k, v in base.items() if k != name}
        return st.just(dropped) | misses[name].map(lambda value: {**base, name: value})

    pairs = st.tuples(valid_values(schema, schema), st.sampled_from(sorted(properties)))
    return pairs.flatmap(lambda pair: edit(*pair))


PROPERTY_SETTINGS = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


SCHEMAS = {name: converted.schema for name, converted in gateway_schemas().items()}
GATEWAY = RequestValidator(SCHEMAS)
"""The local gateway's validator, built once over every exported model."""


VALID = {name: valid_values(schema, schema) for name, schema in SCHEMAS.items()}
STRATEGIES = {name: st.one_of(messages(s), pointed_messages(s)) for name, s in SCHEMAS.items()}


def gateway_accepts(name: str, value: Any) -> bool:
    """What the local gateway does with the model as ``wsgate synth`` exports it."""
    return GATEWAY.check("$default", {"$default": name}, value).valid


@pytest.mark.parametrize("name", list(MODELS))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_every_client_schema_agrees_with_its_model(name: str, data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[name])
    assert gateway_accepts(name, value) == pydantic_accepts(MODELS[name], value), value


@pytest.mark.parametrize("name", list(MODELS))
def test_property_strategies_reach_both_outcomes(name: str) -> None:
    """Guard against a property test that only ever sees one answer."""
    from hypothesis import find

    schema = gateway_schemas()[name].schema
    strategy = st.one_of(messages(schema), pointed_messages(schema))
    find(strategy, lambda v: pydantic_accepts(MODELS[name], v))
    find(strategy, lambda v: not pydantic_accepts(MODELS[name], v) and isinstance(v, dict))


def _patterns(node: Any) -> list[tuple[str, str]]:
    """(property path, pattern) of every ``pattern`` in an exported schema."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and isinstance(value.get("pattern"), str):
                found.append((key, value["pattern"]))
            found.extend(_patterns(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_patterns(item))
    return found


PATTERNED = [
    (name, prop, pattern)
    for name in MODELS
    for prop, pattern in _patterns(gateway_schemas()[name].schema.get("properties", {}))
]


@pytest.mark.parametrize(("name", "prop", "pattern"), PATTERNED)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_patterns_agree_on_line_ends(
    name: str, prop: str, pattern: str, data: st.DataObject
) -> None:
    """Every client pattern, gateway (ECMA-262) against service (the model), on strings the
    pattern matches in Python with a line terminator added at either end."""
    base = data.draw(VALID[name])
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    end = data.draw(st.sampled_from(["", *LINE_ENDS]))
    value = data.draw(st.sampled_from([text + end, end + text]))
    message = {**base, prop: value}
    assert gateway_accepts(name, message) == pydantic_accepts(MODELS[name], message), message


def test_every_client_model_has_its_patterns_checked() -> None:
    """The joinroom room name is a patterned field; a trailing newline is refused by both."""
    assert any(name == "JoinRoom" for name, _, _ in PATTERNED)
    message = {"action": "joinroom", "roomname": "room\n"}
    assert not gateway_accepts("JoinRoom", message)
    assert not pydantic_accepts(JoinRoom, message)


def test_patterns_the_two_engines_read_differently_are_refused() -> None:
    class Digits(BaseModel):
        code: Annotated[str, Field(pattern=r"^\d{4}$")]

    class Dotted(BaseModel):
        code: Annotated[str, Field(pattern=r"^a.b$")]

    for model in (Digits, Dotted):
        with pytest.raises(NonPortablePatternError, match="read differently"):
            to_draft04(model)

    class Portable(BaseModel):
        code: Annotated[str, Field(pattern=r"^[0-9]{4}\.[a-z]+$")]

    assert to_draft04(Portable).schema["properties"]["code"]["pattern"] == r"^[0-9]{4}\.[a-z]+$"
