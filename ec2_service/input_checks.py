"""What the service refuses before a handler runs, as plain functions over plain data.

Every refusal is a list of :class:`FieldError` (``payload.roomname: ...``), so a caller learns
which field to fix and never sees a class name, a traceback, or its own input echoed back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from ec2_service.settings import ServiceSettings
from shared import names

MAX_DEPTH = 32
"""Deeper JSON than any route's model needs; refused before validation walks it."""
MAX_BODY_BYTES = 1024 * 1024
"""A 128 KB WebSocket frame escaped into the request template stays well below this."""
JSON_TYPES = ("application/json",)

_TYPE_MESSAGES = {
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dict_type": "Input should be an object",
    "dataclass_type": "Input should be an object",
}
"""pydantic messages that would name an internal class (``MessageRequest[JoinRoom]``)."""


@dataclass(frozen=True)
class FieldError:
    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.loc}: {self.msg}" if self.loc else self.msg


class BadInput(ValueError):
    """A body the service refuses, with the errors to report."""

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def check_content_type(content_type: str | None) -> None:
    """JSON or unstated: the integration sets ``application/json`` explicitly (a static request
    parameter), so anything else was not sent by API Gateway."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and media not in JSON_TYPES:
        raise BadInput(
            "Unsupported content type",
            [FieldError("Content-Type", f"must be application/json, got {media or 'nothing'!r}")],
        )


def parse_json(raw: bytes) -> Any:
    """The body as JSON: UTF-8, parseable, and not so deep that parsing exhausts the stack."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(
            "Invalid JSON", [FieldError("", f"not UTF-8 at byte {error.start}")]
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadInput(
            "Invalid JSON", [FieldError("", f"nested deeper than {MAX_DEPTH}")]
        ) from None
    except ValueError as error:
        raise BadInput("Invalid JSON", [FieldError("", str(error))]) from None
    return data


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain lone surrogates (invalid Unicode)"
    return None


def text_errors(data: Any, opaque: frozenset[str] = frozenset()) -> list[FieldError]:
    """What Python's parser accepts but the service must not store or forward: nesting deeper
    than :data:`MAX_DEPTH`, NUL characters and lone surrogates (``"\\ud800"``), which DynamoDB,
    the push and every log line would choke on. Top-level ``opaque`` fields are text the service
    never keeps (the raw ``$default`` frame) and are not checked. Iterative: no recursion."""
    problems: list[FieldError] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        where = ".".join(path)
        if len(path) > MAX_DEPTH:
            return [FieldError(where, f"nested deeper than {MAX_DEPTH}")]
        if isinstance(value, str):
            if len(path) == 1 and path[0] in opaque:
                continue
            problem = _bad_text(value)
            if problem:
                problems.append(FieldError(where, problem))
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _bad_text(key)
                if problem:
                    problems.append(FieldError(where, f"a key {problem}"))
                    continue
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i))) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p.loc)


def field_errors(error: ValidationError) -> list[FieldError]:
    """pydantic's errors by dotted location, without input echo or internal class names."""
    return [
        FieldError(
            ".".join(str(part) for part in item["loc"]),
            _TYPE_MESSAGES.get(item["type"], item["msg"]),
        )
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]


ENVELOPE_CHECKS: tuple[tuple[str, Any, str, str], ...] = (
    ("apiId", names.API_ID_PATTERN, "api_id", names.ENV_API_ID),
    ("stage", names.STAGE_NAME_PATTERN, "stage", names.ENV_STAGE),
    ("region", names.REGION_PATTERN, "region", names.ENV_REGION),
    ("tableName", names.TABLE_NAME_PATTERN, "table_name", names.ENV_TABLE_NAME),
)
"""Body field, AWS's format for it, and the setting it must equal."""


def envelope_errors(data: Any, settings: ServiceSettings) -> list[FieldError]:
    """Where the body's ``apiId``/``stage``/``region``/``tableName`` disagree with this
    service's configuration: another stage or API pointed at this fleet, or a forgery. The
    values are informational only; the service never acts on them."""
    if not isinstance(data, dict):
        return []
    problems: list[FieldError] = []
    for field, pattern, setting, env in ENVELOPE_CHECKS:
        value = data.get(field)
        if not isinstance(value, str):
            continue  # missing or mistyped: the model reports it
        if not pattern.match(value):
            problems.append(FieldError(field, f"not a valid {field} (expected {pattern.pattern})"))
        elif value != getattr(settings, setting):
            problems.append(
                FieldError(field, f"does not match this service's configuration ({env})")
            )
    return problems


def connection_id_of(data: Any) -> str | None:
    """The body's connection id if it is a well-formed one (whom to tell about a refusal)."""
    value = data.get("connectionId") if isinstance(data, dict) else None
    if isinstance(value, str) and names.CONNECTION_ID_PATTERN.match(value):
        return value
    return None
