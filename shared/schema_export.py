"""Turn pydantic models into the JSON Schema draft-04 that API Gateway models accept.

Pydantic emits JSON Schema 2020-12; API Gateway validates with draft-04 only. The conversion is
done keyword by keyword rather than by trusting that the two drafts overlap: ``$defs`` become
``definitions`` (with every ``$ref`` rewritten), ``const`` becomes a one-value ``enum``,
numeric ``exclusiveMinimum``/``exclusiveMaximum`` become draft-04's boolean form,
``prefixItems`` becomes the array form of ``items``, and any keyword or ``format`` draft-04 does
not know is dropped and recorded in :attr:`Draft04Schema.dropped`, so the README and the
property tests can say which constraints only the service enforces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared.routes import ROUTES, Route, client_models

DRAFT04_URI = "http://json-schema.org/draft-04/schema#"

DRAFT04_KEYWORDS = frozenset(
    {
        "$schema", "id", "$ref", "title", "description", "default",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern",
        "additionalItems", "items", "maxItems", "minItems", "uniqueItems",
        "maxProperties", "minProperties", "required", "additionalProperties",
        "definitions", "properties", "patternProperties", "dependencies",
        "enum", "type", "allOf", "anyOf", "oneOf", "not", "format",
    }
)  # fmt: skip
"""Every keyword of draft-04 (core + validation); anything else is not understood there."""

DRAFT04_FORMATS = frozenset({"date-time", "email", "hostname", "ipv4", "ipv6", "uri"})
"""The formats draft-04 defines; API Gateway rejects others (e.g. ``date``) at request time."""

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("not", "additionalProperties", "additionalItems")


@dataclass
class Draft04Schema:
    """A converted schema and what draft-04 could not express."""

    name: str
    schema: dict[str, Any]
    dropped: list[str] = field(default_factory=list)


def _convert(node: Any, path: str, dropped: list[str]) -> Any:
    if isinstance(node, list):
        return [_convert(item, f"{path}[{i}]", dropped) for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        where = f"{path}/{key}"
        if not _rewrite_newer_keyword(node, key, value, where, out, dropped):
            _copy_draft04_keyword(key, value, where, out, dropped)
    return out


def _rewrite_newer_keyword(
    node: dict[str, Any], key: str, value: Any, where: str, out: dict[str, Any], dropped: list[str]
) -> bool:
    """Write a keyword pydantic spells the 2020-12 way as draft-04 does; False if it is not one."""
    if key == "$defs":
        out["definitions"] = {k: _convert(v, f"{where}/{k}", dropped) for k, v in value.items()}
    elif key == "$ref":
        out["$ref"] = value.replace("#/$defs/", "#/definitions/")
    elif key == "const":
        out["enum"] = [value]
    elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
        bound = "minimum" if key == "exclusiveMinimum" else "maximum"
        out[bound] = value
        out[key] = True
    elif key == "prefixItems":
        out["items"] = _convert(value, where, dropped)
        if node.get("items") is False:
            out["additionalItems"] = False
    elif key == "items" and "prefixItems" in node:
        pass  # written with prefixItems, as additionalItems
    else:
        return False
    return True


def _copy_draft04_keyword(
    key: str, value: Any, where: str, out: dict[str, Any], dropped: list[str]
) -> None:
    """Keep a draft-04 keyword (converting the schemas inside it); record what draft-04 lacks."""
    if key == "format" and value not in DRAFT04_FORMATS:
        dropped.append(f"{where}={value}")
    elif key in _SCHEMA_MAPS and isinstance(value, dict):
        out[key] = {k: _convert(v, f"{where}/{k}", dropped) for k, v in value.items()}
    elif key in _SCHEMA_LISTS or key in _SCHEMA_VALUES or key == "items":
        out[key] = _convert(value, where, dropped)
    elif key in DRAFT04_KEYWORDS:
        out[key] = value
    else:
        dropped.append(where)


class NonPortablePatternError(ValueError):
    """A ``pattern`` whose meaning differs between the gateway and the service."""


_NON_PORTABLE = {
    r"\d": "[0-9]",
    r"\D": "[^0-9]",
    r"\w": "[A-Za-z0-9_]",
    r"\W": "[^A-Za-z0-9_]",
    r"\s": "an explicit class such as [ \t]",
    r"\S": "an explicit negated class",
    r"\b": "an explicit class boundary",
    r"\B": "an explicit class boundary",
    "(?": "plain groups (no flags, lookaround or named groups)",
    "\\1": "no back-references",
}


def check_portable_pattern(pattern: str, where: str) -> None:
    """Refuse the regex constructs ECMA-262 and the service's engine read differently.

    API Gateway evaluates ``pattern`` as ECMA-262 (draft-04); pydantic evaluates it with Rust's
    ``regex`` crate. Anchors, explicit classes, repetition and alternation mean the same in
    both; Unicode-aware shorthands (``\\d`` is any Unicode digit in Rust, ASCII in ECMA), ``.``
    (ECMA also stops at ``\\r``, U+2028, U+2029) and inline flags do not.
    """
    plain = re.sub(r"\\\\|\\\.|\[(?:\\.|[^\]])*\]", "", pattern)
    for construct, instead in _NON_PORTABLE.items():
        if construct in pattern:
            raise NonPortablePatternError(
                f"{where}: pattern {pattern!r} uses {construct!r}, which the gateway (ECMA-262) "
                f"and the service (Rust regex) read differently; use {instead}"
            )
    if "." in plain:
        raise NonPortablePatternError(
            f"{where}: pattern {pattern!r} uses '.', which the gateway (ECMA-262) and the "
            "service (Rust regex) read differently around line terminators; use an explicit "
            "class"
        )


def _check_patterns(node: Any, path: str) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _check_patterns(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                check_portable_pattern(value, f"{path}/pattern")
            elif key == "patternProperties" and isinstance(value, dict):
                for pattern in value:
                    check_portable_pattern(pattern, f"{path}/patternProperties")
            _check_patterns(value, f"{path}/{key}")


def to_draft04(model: type[BaseModel], name: str | None = None) -> Draft04Schema:
    """Convert ``model``'s validation schema to draft-04, titled with the gateway model name.

    Raises :class:`NonPortablePatternError` for a pattern the gateway and the service would
    read differently, so such a model never reaches a template.
    """
    title = name or model.__name__
    dropped: list[str] = []
    converted = _convert(model.model_json_schema(mode="validation"), "#", dropped)
    _check_patterns(converted, f"{title}#")
    schema = {"$schema": DRAFT04_URI, "title": title, **converted}
    schema["title"] = title
    return Draft04Schema(name=title, schema=schema, dropped=dropped)


def gateway_schemas(routes: tuple[Route, ...] = ROUTES) -> dict[str, Draft04Schema]:
    """One draft-04 schema per client model of the route table, keyed by gateway model name."""
    return {name: to_draft04(model, name) for name, model in client_models(routes).items()}


def write_schemas(directory: Path, routes: tuple[Route, ...] = ROUTES) -> list[Path]:
    """Write ``<ModelName>.json`` files, one per gateway model; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, converted in gateway_schemas(routes).items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(converted.schema, indent=2, sort_keys=False) + "\n")
        written.append(path)
    return written
