"""Client text made safe at the gateway's edges: frames encoded whatever a template produced.

A client can send any valid UTF-8; JSON escapes then decode into strings no UTF-8 writer can
encode (lone surrogates), and nesting can exceed the parser's recursion. Neither may cost the
client its connection: API Gateway answers such bodies like any other.
"""

from __future__ import annotations


def utf8(text: str) -> bytes:
    """A frame's bytes. Lone surrogates (a JSON ``\\ud800`` escape decoded by a template) become
    ``?``, as Java's UTF-8 encoder writes them, instead of failing the send."""
    return text.encode("utf-8", "replace")
