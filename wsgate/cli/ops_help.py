"""The ops actions and their payloads, described from ``shared.ops_actions`` for ``--help``.

The models are the one definition of what each action takes; the help text is read from them
(their docstrings and JSON schemas), so it cannot fall behind a new field or action.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from shared.ops_actions import OpsAction


def ops_models() -> tuple[type[BaseModel], ...]:
    """The models of the ``OpsAction`` union, in declaration order."""
    union, *_ = typing.get_args(OpsAction)
    return tuple(typing.get_args(union))


def _type_name(schema: dict[str, Any]) -> str:
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    first = options[0] if options else schema
    return str(first.get("format") or first.get("type") or "value").upper()


def example_payload(model: type[BaseModel]) -> str:
    """``{"action":"broadcast","message":STRING,"room?":STRING}``: optional fields end in ``?``."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        if name == "action":
            fields.append(f'"action":"{prop.get("const", prop.get("enum", [""])[0])}"')
            continue
        mark = "" if name in required else "?"
        fields.append(f'"{name}{mark}":{_type_name(prop)}')
    return "{" + ",".join(fields) + "}"


def action_name(model: type[BaseModel]) -> str:
    return str(typing.get_args(model.model_fields["action"].annotation)[0])


def ops_actions_help() -> str:
    """One entry per action: its name, the first line of its docstring, its payload."""
    lines = []
    for model in ops_models():
        summary = (model.__doc__ or "").strip().splitlines()[0]
        lines.append(f"  {action_name(model)}: {summary}")
        lines.append(f"    {example_payload(model)}")
    return "\n".join(lines)
