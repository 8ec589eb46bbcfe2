"""Templates whose output needs no Velocity engine: text and plain ``$a.b`` references.

Most mapping templates are like the MOCK ones every message renders: ``{"statusCode": 200}``
(no Velocity at all) or text with ``$context.routeKey``-style references. airspeed parses such a
template once but still walks its node tree, builds a namespace and a stream for every merge, a
measurable share of the gateway's CPU per message. A template in that subset is filled here
directly; anything else, and any reference whose value is not a plain string found by key,
goes to airspeed, so the output is airspeed's in every case (``tests/gateway/test_vtl_plain.py``
compares the two).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import airspeed

Path = tuple[str, ...]

REPLACE_FORMAL_TEXT: str = airspeed.operators.REPLACE_FORMAL_TEXT
"""A value airspeed prints as the reference's own text instead of the value."""

PLAIN_ROOTS = frozenset({"context", "stageVariables"})
"""Variables a plain reference may start from: dictionaries whose values are looked up by key."""

_PIECE = re.compile(
    r"([^$#\\]*)"  # text: Velocity gives meaning to '$', '#' and '\' only
    r"(?:\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)"  # $root.name[.name...]
    r"(?![A-Za-z0-9_\-.(\[{!]))?"  # not continued as a longer name, a call or an index
)


@lru_cache(maxsize=512)
def plain_form(template: str) -> tuple[str | Path, ...] | None:
    """``template`` as text and reference paths, or None when it needs the Velocity engine."""
    parts: list[str | Path] = []
    position = 0
    while position < len(template):
        match = _PIECE.match(template, position)
        assert match is not None  # the text group matches the empty string
        text, reference = match.groups()
        if match.end() == position:
            return None  # a '$', '#' or '\' that is not a plain reference
        if text:
            parts.append(text)
        if reference is not None:
            path = tuple(reference.split("."))
            if path[0] not in PLAIN_ROOTS:
                return None
            parts.append(path)
        position = match.end()
    return tuple(parts)


def fill(form: tuple[str | Path, ...], roots: Mapping[str, Any]) -> str | None:
    """The rendered text, or None when a reference needs the engine's own lookup rules
    (missing key, attribute, non-string value, null)."""
    out: list[str] = []
    for part in form:
        if isinstance(part, str):
            out.append(part)
            continue
        value: Any = roots
        for name in part:
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
        if type(value) is not str or value == REPLACE_FORMAL_TEXT:
            return None
        out.append(value)
    return "".join(out)
