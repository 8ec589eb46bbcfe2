"""Request validation: the route's model chosen by its selection expression, checked as draft-04.

API Gateway validates a message against the model its ``ModelSelectionExpression`` selects in
``RequestModels``, falls back to the ``$default`` model, and fails the request when there is
neither (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-request-validation.html).
Models are JSON Schema draft-04, whose ``pattern`` is an ECMA-262 regular expression
(draft-04 validation spec, section 3.3: https://json-schema.org/draft-04/draft-fge-json-schema-validation-00.pdf).
Python's ``re`` differs where it matters for input checks: its ``$`` also matches before a final
newline, so ``"room\\n"`` passes ``^[a-z]+$``. ``pattern`` and ``patternProperties`` therefore
run on ``regress`` (Rust's ECMA-262 engine), the engine jsonschema itself uses for the
``regex`` format when it is installed.

Every message of a route with a model is validated, and jsonschema walks a schema at a cost of
tens of microseconds per message. Each model is therefore also compiled with jsonschema-rs
(with the same ``regress`` patterns), which answers "valid" in about a microsecond or two; only a
message it does not pass (or cannot take) goes through jsonschema, whose problems are what
the execution log shows. The two are compared on every model of the API in
``tests/gateway/test_fast_validation.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
import regress
from jsonschema import Draft4Validator, ValidationError, validators
from jsonschema.protocols import Validator

from wsgate.gateway.errors import UNPARSEABLE_BODY
from wsgate.gateway.selection import DEFAULT_KEY, NOT_JSON, SelectionInput, select_key

NESTED_TOO_DEEP = "The body is nested too deeply to validate"
NO_MATCHING_MODEL = "No model matches the model selection expression and there is no $default model"


@lru_cache(maxsize=1024)
def ecma_regex(pattern: str) -> regress.Regex:
    """Compile once: every message of a route checks the same few patterns."""
    return regress.Regex(pattern)


def _rust_safe(text: str) -> str:
    """``text`` with lone surrogates (a JSON ``"\ud800"`` escape) as U+FFFD: the Rust engine
    takes UTF-8 only, where an ECMA-262 engine sees one UTF-16 code unit. Both are a single
    non-ASCII character to every pattern the schema export allows, so the verdict is the same."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def ecma_search(pattern: str, text: str) -> bool:
    """``pattern`` found anywhere in ``text`` (JSON Schema patterns are not anchored)."""
    return ecma_regex(pattern).find(_rust_safe(text)) is not None


def _pattern(validator: Validator, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Draft4Validator, pattern_properties: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if ecma_search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


# types-jsonschema leaves ``extend`` unannotated.
EcmaDraft4Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft4Validator, {"pattern": _pattern, "patternProperties": _pattern_properties}
)
"""Draft-04 with ECMA-262 regular expressions, as API Gateway's models are written."""


class _EcmaPattern:
    """``pattern`` for jsonschema-rs, on the ECMA-262 engine the Python validator uses: the Rust
    crate's own regex dialect differs (its ``.`` matches U+2028, ECMA-262's does not)."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        self.pattern = str(value)

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and not ecma_search(self.pattern, instance):
            raise ValueError(f"{instance!r} does not match {self.pattern!r}")


def fast_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Validator | None:
    """jsonschema-rs's draft-04 validator for ``schema``, or None where it cannot be trusted to
    agree with :data:`EcmaDraft4Validator`: ``patternProperties`` (whose names jsonschema's
    ``additionalProperties`` matches with Python's ``re``) or a schema it refuses."""
    if '"patternProperties"' in json.dumps(schema):
        return None
    try:
        return jsonschema_rs.Draft4Validator(
            dict(schema), validate_formats=False, keywords={"pattern": _EcmaPattern}
        )
    except (jsonschema_rs.ValidationError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Verdict:
    """The outcome of validating one message: valid, or the problems for the execution log."""

    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems


class RequestValidator:
    """Every model of the API compiled once; ``check`` applies a route's selection to a body."""

    def __init__(self, models: Mapping[str, Mapping[str, Any]]) -> None:
        self.validators = {name: EcmaDraft4Validator(schema) for name, schema in models.items()}
        self.fast = {name: fast_validator(schema) for name, schema in models.items()}

    def check(
        self, expression: str | None, request_models: Mapping[str, str], document: Any
    ) -> Verdict:
        """Validate ``document`` (``selection.parse_body``) as API Gateway validates a route.

        No model selection expression and no ``$default`` model: nothing to validate. With an
        expression, a key that selects no model and no ``$default`` fails the request.
        """
        if not request_models or (expression is None and DEFAULT_KEY not in request_models):
            return Verdict()
        if document is NOT_JSON:
            return Verdict((UNPARSEABLE_BODY,))
        key = select_key(request_models, expression, SelectionInput(body=document))
        if key is None:
            return Verdict((NO_MATCHING_MODEL,))
        name = request_models[key]
        if self._passes_fast(name, document):
            return Verdict()
        validator = self.validators[name]
        try:
            return Verdict(tuple(error.message for error in validator.iter_errors(document)))
        except RecursionError:  # a value nested past what the validator can walk (or print)
            return Verdict((NESTED_TOO_DEEP,))

    def _passes_fast(self, name: str, document: Any) -> bool:
        """True when jsonschema-rs passes ``document``; anything else is for jsonschema to say."""
        fast = self.fast.get(name)
        if fast is None:
            return False
        try:
            return fast.is_valid(document)
        except (ValueError, TypeError, OverflowError, RecursionError, UnicodeError):
            return False  # a value it cannot take (a lone surrogate, a huge number)
