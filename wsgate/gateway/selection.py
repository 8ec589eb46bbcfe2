"""Selection expressions: which route, model, template and integration response a message gets.

One evaluator for every selection expression API Gateway documents for WebSocket APIs
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-selection-expressions.html):
a variable starts with ``$``, ``${...}`` marks its boundaries, several variables may appear and
each is evaluated once (no recursion), ``\\$`` escapes a dollar, and ``/regex/`` keys match by
pattern. The route-selection examples of
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
fix the rest: the text after ``request.body`` is JSONPath, a missing path becomes ``""``, and an
array is stringified as ``[item1, item2]``. Pure functions only: no I/O, no gateway state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jsonpath_ng.parser import parse as parse_jsonpath

NOT_JSON = object()
"""The parsed body of a message that is not JSON (it then goes to ``$default``)."""

DEFAULT_KEY = "$default"

_BARE_VARIABLE = re.compile(r"[A-Za-z0-9_.\-\[\]'*@]+")
"""What an unbraced ``$variable`` spans: a dotted path, JSONPath brackets and header names."""

_ROOTS = ("request", "integration", "context", "stageVariables")
"""Variable roots the evaluator resolves; ``$default`` and other words stay literal text."""


@dataclass(frozen=True)
class SelectionInput:
    """What selection variables can read: the message, and the integration's answer."""

    body: Any = NOT_JSON
    """The parsed message (``parse_body``); ``NOT_JSON`` when it is not JSON."""
    status: int | None = None
    """``integration.response.statuscode``, once the integration answered."""
    response_headers: Mapping[str, str] = field(default_factory=dict)
    """``integration.response.header.X``."""
    context: Mapping[str, Any] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


def parse_body(body: str) -> Any:
    """The message as JSON, or ``NOT_JSON`` when it is not JSON or is nested deeper than the
    parser's recursion allows: API Gateway answers such a body like any unparseable one
    (``$default``), and a hostile client must not cost the gateway its message handler."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return NOT_JSON


@lru_cache(maxsize=512)
def _jsonpath(path: str) -> Any:
    return parse_jsonpath(path)


def stringify(value: Any) -> str:
    """A selected value as the key text API Gateway compares (``true``, ``[a, b]``, ``1.5``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(stringify(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


_DOTTED = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
"""A plain ``a.b.c`` path: walked directly, the JSONPath engine is only for the rest."""


def body_value(path: str, document: Any) -> Any:
    """``request.body.<path>`` (JSONPath) against the parsed body; None when nothing matches."""
    if document is NOT_JSON or not path:
        return None
    if _DOTTED.fullmatch(path):
        value = document
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value
    try:
        matches = [match.value for match in _jsonpath("$." + path).find(document)]
    except Exception:  # an unparsable path selects nothing, as a missing one does
        return None
    if not matches:
        return None
    return matches[0] if len(matches) == 1 else matches


def _dotted(root: Mapping[str, Any], path: str) -> Any:
    value: Any = root
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def variable(name: str, given: SelectionInput) -> str | None:
    """The text of one variable; None for a name that is not a variable (kept literally)."""
    root = name.split(".", 1)[0]
    if root not in _ROOTS:
        return None
    if name.startswith("request.body."):
        return stringify(body_value(name.removeprefix("request.body."), given.body))
    if name in ("integration.response.statuscode", "response.statuscode"):
        return "" if given.status is None else str(given.status)
    if name.startswith("integration.response.header."):
        wanted = name.removeprefix("integration.response.header.").lower()
        return next((v for k, v in given.response_headers.items() if k.lower() == wanted), "")
    if name.startswith("context."):
        return stringify(_dotted(given.context, name.removeprefix("context.")))
    if name.startswith("stageVariables."):
        return given.stage_variables.get(name.removeprefix("stageVariables."), "")
    return ""


@dataclass(frozen=True)
class _Variable:
    name: str
    source: str
    """The expression text it came from, kept when the name is not a variable."""


@lru_cache(maxsize=512)
def _parse(expression: str) -> tuple[str | _Variable, ...]:
    """Literal text and variables, in order: expressions are few and evaluated per message."""
    parts: list[str | _Variable] = []
    literal: list[str] = []
    i = 0
    while i < len(expression):
        ch = expression[i]
        variable_here: _Variable | None = None
        if ch == "\\" and expression.startswith("$", i + 1):
            literal.append("$")
            i += 2
            continue
        if ch == "$" and expression.startswith("{", i + 1) and "}" in expression[i + 2 :]:
            end = expression.index("}", i + 2)
            variable_here = _Variable(expression[i + 2 : end], expression[i : end + 1])
            i = end + 1
        elif ch == "$" and (match := _BARE_VARIABLE.match(expression, i + 1)):
            variable_here = _Variable(match.group(), "$" + match.group())
            i = match.end()
        else:
            literal.append(ch)
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(variable_here)
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def evaluate(expression: str, given: SelectionInput) -> str:
    """The key an expression produces: literals kept, ``\\$`` unescaped, variables replaced."""
    out: list[str] = []
    for part in _parse(expression):
        if isinstance(part, str):
            out.append(part)
        else:
            value = variable(part.name, given)
            out.append(part.source if value is None else value)
    return "".join(out)


def key_matches(key: str, value: str) -> bool:
    """A selection key against an evaluated value: ``/regex/`` keys by pattern, others exactly."""
    if len(key) >= 2 and key.startswith("/") and key.endswith("/"):
        try:
            return re.fullmatch(key[1:-1], value) is not None
        except re.error:
            return False
    return key == value


def select_key(
    keys: Mapping[str, Any], expression: str | None, given: SelectionInput
) -> str | None:
    """The key of ``keys`` an expression selects, falling back to ``$default``; else None."""
    if expression is not None:
        value = evaluate(expression, given)
        if value in keys:
            return value
    return DEFAULT_KEY if DEFAULT_KEY in keys else None


def select_route(expression: str, document: Any, route_keys: set[str], default: str) -> str | None:
    """The route key for a message; ``default`` for non-JSON or unmatched; None if no route."""
    if document is not NOT_JSON:
        try:
            key = evaluate(expression, SelectionInput(body=document))
        except RecursionError:  # a selected value nested too deep to write as key text
            key = ""
        if key in route_keys and not key.startswith("$"):
            return key
    return default if default in route_keys else None


def select_response_key(keys: list[str], status: int) -> str | None:
    """Integration response selection: ``/regex/`` keys on the status, then ``$default``."""
    for key in keys:
        if key != DEFAULT_KEY and key_matches(key, str(status)):
            return key
    return DEFAULT_KEY if DEFAULT_KEY in keys else None
