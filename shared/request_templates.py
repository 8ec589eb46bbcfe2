"""Derive a route's VTL request template from its integration model.

The template is generated, never written by hand: each field's Source annotation
says which VTL expression fills it and how it is encoded. String values go through
``$util.escapeJavaScript`` (plus the documented ``replaceAll("\\'","'")`` idiom, because
escapeJavaScript turns ``'`` into ``\\'``, which JSON does not allow), so a ``"`` in a room name
or a user's display name cannot break the JSON the service receives. Every string is written as
a quiet reference (``$!``), which turns a value that is absent, such as
``$context.authorizer.name`` on an API without an authorizer or a stage variable a stage does not
set, into an empty string instead of the literal expression text.
"""

from __future__ import annotations

import json

from pydantic import BaseModel

from shared.integration_models import Source, field_sources

TEMPLATE_SELECTION_EXPRESSION = r"\$default"
"""Static expression that selects the ``$default`` template, escaped as API Gateway requires."""

TEMPLATE_KEY = "$default"


def _render_value(source: Source) -> str:
    expression = source.expression
    if source.encoding in ("number", "json"):
        return expression
    if source.encoding == "verbatim":
        return f'"${"!" + expression[1:]}"'
    # ``$!util.escapeJavaScript($context.x)`` : quiet reference around the whole call.
    inner = expression[1:] if expression.startswith("$") else expression
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    return f'"$!util.escapeJavaScript(${inner}).replaceAll("\\\\\'","\'")"'


def request_template(model: type[BaseModel]) -> str:
    """The VTL template whose output is a JSON document that ``model`` parses.

    One line per field keeps the rendered body readable in the gateway's execution log.
    """
    lines = [
        f"  {json.dumps(name)}: {_render_value(source)}"
        for name, source in field_sources(model).items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}"


def request_templates(model: type[BaseModel]) -> dict[str, str]:
    """``Integration.RequestTemplates``: the one template, under the ``$default`` key."""
    return {TEMPLATE_KEY: request_template(model)}
