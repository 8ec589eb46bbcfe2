"""Client text made safe at the gateway's edges: bodies parsed for selection, frames encoded.

A client can send any valid UTF-8; JSON escapes then decode into strings no UTF-8 writer can
encode (lone surrogates), and nesting can exceed the parser's recursion. Neither may cost the
client its connection: API Gateway answers such bodies like any other.
"""

from __future__ import annotations

from typing import Any

from wsgate.gateway.selection import NOT_JSON, parse_body


def parse_message(data: str) -> Any:
    """The message as JSON for route selection; ``NOT_JSON`` when it is not (or is nested too
    deep to parse), so it goes to ``$default`` like any other unparseable body."""
    try:
        return parse_body(data)
    except RecursionError:
        return NOT_JSON


def utf8(text: str) -> bytes:
    """A frame's bytes. Lone surrogates (a JSON ``\\ud800`` escape decoded by a template) become
    ``?``, as Java's UTF-8 encoder writes them, instead of failing the send."""
    return text.encode("utf-8", "replace")
