"""Render API Gateway mapping templates (Velocity) the way API Gateway does.

airspeed-ext parses and evaluates the Velocity; this module supplies the variables API Gateway
puts in scope: ``$context``, ``$stageVariables``, ``$input`` and ``$util``. ``$util`` follows
the Java functions API Gateway documents, including their quirks (``escapeJavaScript`` turns
``'`` into ``\\'``; ``urlEncode`` writes a space as ``+``), because templates written for AWS
rely on them.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from jsonpath_ng.parser import parse as parse_jsonpath

from wsgate.gateway.vtl_plain import fill, plain_form

_JS_ESCAPES = {
    "'": "\\'",
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def escape_javascript(value: Any) -> str | None:
    """Java's ``StringEscapeUtils.escapeJavaScript``, as ``$util.escapeJavaScript`` uses it."""
    if value is None:
        return None
    out = []
    for ch in str(value):
        if ch in _JS_ESCAPES:
            out.append(_JS_ESCAPES[ch])
        elif ord(ch) < 32 or ord(ch) > 0x7F:
            # Java strings are UTF-16: characters beyond the BMP become two escapes.
            units = ch.encode("utf-16-be").hex().upper()
            out.extend(f"\\u{units[i : i + 4]}" for i in range(0, len(units), 4))
        else:
            out.append(ch)
    return "".join(out)


class Util:
    """``$util``: the helper functions API Gateway exposes to mapping templates."""

    def escapeJavaScript(self, value: Any) -> str | None:
        return escape_javascript(value)

    def parseJson(self, value: str) -> Any:
        return java_view(json.loads(value))

    def urlEncode(self, value: str) -> str:
        return quote_plus(str(value), safe="*")

    def urlDecode(self, value: str) -> str:
        return unquote_plus(str(value))

    def base64Encode(self, value: str) -> str:
        return base64.b64encode(str(value).encode()).decode()

    def base64Decode(self, value: str) -> str:
        return base64.b64decode(str(value)).decode()


@lru_cache(maxsize=256)
def _jsonpath(path: str) -> Any:
    return parse_jsonpath(path)


class VtlList(list[Any]):
    """A JSON array as templates see it: a Java ``List`` (``size()``, ``isEmpty()``, ``get(i)``).

    ``$input.path('$.pets').size()`` is the mapping-template reference's own example
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html);
    ``count()`` without an argument is accepted as the same, since templates use it.
    """

    def size(self) -> int:
        return len(self)

    def count(self, *value: Any) -> int:
        return super().count(value[0]) if value else len(self)

    def isEmpty(self) -> bool:
        return not self

    def get(self, index: int) -> Any:
        return self[index]


class VtlMap(dict[str, Any]):
    """A JSON object as templates see it: a Java ``Map`` (``size()``, ``isEmpty()``...)."""

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def keySet(self) -> VtlList:
        return VtlList(self.keys())

    def containsKey(self, key: str) -> bool:
        return key in self


def java_view(value: Any) -> Any:
    """``value`` with every array and object given the Java methods templates call on them."""
    if isinstance(value, list):
        return VtlList(java_view(item) for item in value)
    if isinstance(value, dict):
        return VtlMap({key: java_view(item) for key, item in value.items()})
    return value


def _indefinite(path: str) -> bool:
    """A JSONPath that can match several values (wildcard, deep scan, filter, union, slice):
    its result is always a list, even with one match, as Jayway's JsonPath returns it."""
    return any(token in path for token in ("*", "..", "?(", ",", ":"))


class Input:
    """``$input``: the message body, queried with JSONPath as API Gateway does."""

    def __init__(self, body: str, params: dict[str, dict[str, str]] | None = None) -> None:
        self.body = body
        self._params = params or {"header": {}, "querystring": {}, "path": {}}
        self._parsed: Any = None
        self._parsed_ok: bool | None = None

    def _document(self) -> Any:
        if self._parsed_ok is None:
            try:
                self._parsed = json.loads(self.body) if self.body else {}
                self._parsed_ok = True
            except ValueError:
                self._parsed_ok = False
        if not self._parsed_ok:
            raise ValueError("Unable to parse the body as JSON for $input.path/$input.json")
        return self._parsed

    def path(self, path: str) -> Any:
        """The value at ``path`` as an object (a list when the path matches several)."""
        if path.strip() == "$":
            return java_view(self._document())
        matches = [m.value for m in _jsonpath(path).find(self._document())]
        if _indefinite(path):
            return java_view(matches)
        if not matches:
            return None
        return java_view(matches[0] if len(matches) == 1 else matches)

    def json(self, path: str) -> str:
        """The value at ``path`` as JSON text (``null`` when nothing matches)."""
        return json.dumps(self.path(path), ensure_ascii=False, separators=(",", ":"))

    def params(self, name: str | None = None) -> Any:
        """All request parameters, or the named one (path, then query string, then header)."""
        if name is None:
            return self._params
        for kind in ("path", "querystring", "header"):
            if name in self._params.get(kind, {}):
                return self._params[kind][name]
        return ""


@lru_cache(maxsize=512)
def compile_template(text: str) -> airspeed.Template:
    """Parse a template once; API Gateway templates are few and reused for every message."""
    return airspeed.Template(text)


def render(
    template: str,
    *,
    context: dict[str, Any],
    stage_variables: dict[str, str] | None = None,
    body: str = "",
    params: dict[str, dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Render ``template`` with the variables API Gateway defines for WebSocket routes."""
    form = plain_form(template)
    if form is not None:
        roots: dict[str, Any] = {"context": context, "stageVariables": stage_variables or {}}
        if extra:
            roots.update(extra)
        text = fill(form, roots)
        if text is not None:
            return text
    namespace: dict[str, Any] = {
        "context": context,
        "stageVariables": stage_variables or {},
        "input": Input(body, params),
        "util": Util(),
    }
    if extra:
        namespace.update(extra)
    return str(compile_template(template).merge(namespace))
