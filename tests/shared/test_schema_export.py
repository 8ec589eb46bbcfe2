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
from shared.schema_export import DRAFT04_URI, gateway_schemas, to_draft04, write_schemas

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
    assert sorted(p.name for p in paths) == ["JoinRoom.json", "SendMessage.json"]
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


# --- property test: the gateway and the service agree ---------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
room_names = st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z")


def near_misses(field_name: str, valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values for one field around the boundary of what is valid."""
    return st.one_of(
        valid,
        st.text(max_size=80),
        st.text(min_size=4090, max_size=4100, alphabet="ab\u00e9\U0001f600"),
        st.just(""),
        st.text(alphabet='"\\\n\u0000\u2028<>', max_size=8),
        st.integers().map(str),
        st.integers(),
        st.none(),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        json_values,
    )


def messages(action: str, fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    body = st.fixed_dictionaries(
        {"action": st.sampled_from([action, action.upper(), "", "other"]) | json_scalars},
        optional={name: near_misses(name, valid) for name, valid in fields.items()}
        | {"from": st.text(max_size=5), "extra": json_values},
    )
    return st.one_of(body, json_values)


PROPERTY_SETTINGS = settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(messages("joinroom", {"roomname": room_names}))
def test_joinroom_schema_agrees_with_model(value: Any) -> None:
    assert draft04(JoinRoom).is_valid(value) == pydantic_accepts(JoinRoom, value)


@PROPERTY_SETTINGS
@given(messages("sendmessage", {"message": st.text(min_size=1, max_size=4096)}))
def test_sendmessage_schema_agrees_with_model(value: Any) -> None:
    assert draft04(SendMessage).is_valid(value) == pydantic_accepts(SendMessage, value)


def test_property_strategies_reach_both_outcomes() -> None:
    """Guard against a property test that only ever sees one answer."""
    from hypothesis import find

    for model, action, fields in (
        (JoinRoom, "joinroom", {"roomname": room_names}),
        (SendMessage, "sendmessage", {"message": st.text(min_size=1, max_size=4096)}),
    ):
        strategy = messages(action, fields)
        find(strategy, lambda v, m=model: pydantic_accepts(m, v))
        find(strategy, lambda v, m=model: not pydantic_accepts(m, v) and isinstance(v, dict))
