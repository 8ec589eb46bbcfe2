"""Selection expressions: which route, which model and which template a message gets."""

from __future__ import annotations

import json
from typing import Any

NOT_JSON = object()


def parse_body(body: str) -> Any:
    """The message as JSON, or ``NOT_JSON`` (it then goes to ``$default``)."""
    try:
        return json.loads(body)
    except ValueError:
        return NOT_JSON


def evaluate(expression: str, document: Any) -> str | None:
    """``$request.body.a.b`` against the parsed body; None when it does not resolve to a
    scalar. Literal expressions (``$default``, ``\\$default``) evaluate to themselves."""
    if expression.startswith("\\$"):
        return expression[1:]
    prefix = "$request.body."
    if not expression.startswith(prefix):
        return expression
    value = document
    for part in expression[len(prefix) :].split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, (dict, list)) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def select_route(expression: str, document: Any, route_keys: set[str], default: str) -> str | None:
    """The route key for a message; ``default`` for non-JSON or unmatched; None if no route."""
    if document is not NOT_JSON:
        key = evaluate(expression, document)
        if key is not None and key in route_keys and not key.startswith("$"):
            return key
    return default if default in route_keys else None
