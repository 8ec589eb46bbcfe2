"""Hostile inputs for the gateway: a catalogue with expected answers, and a seeded fuzzer.

Everything route-specific is derived from ``shared.routes.ROUTES`` and each route's client
model (its JSON schema), so a new route gets its share of hostile input without an edit here.

Expected answers follow API Gateway:
- a body that is not JSON, or whose ``action`` matches no route, goes to ``$default``
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html);
  here ``$default``'s integration answers with the service's help frame;
- a body that fails the route's model gets ``{"message": "Invalid request body", ...}`` and the
  backend is not called
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-request-validation.html);
- binary frames close with 1003, frames over 32 KB or messages over 128 KB with 1009
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html);
- frames that break RFC 6455 close with 1002 (sections 5.1, 5.2, 5.4, 5.5, 7.4.1), text that is
  not UTF-8 with 1007 (section 8.1).
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator
from pydantic import BaseModel, ValidationError

from shared.routes import ROUTES, Route
from shared.schema_export import gateway_schemas

HELP = "help"
INVALID = "invalid"
SERVED = "served"
"""A valid request: the service answers (anything but one of the gateway's error frames)."""

GATEWAY_ERRORS = {"Invalid request body", "Forbidden", "Internal server error"}


@dataclass(frozen=True)
class MessageCase:
    """A text message and the answer it must get on a connection that stays open."""

    name: str
    text: str
    expect: str

    @property
    def size(self) -> int:
        return len(self.text.encode())


@dataclass(frozen=True)
class FrameCase:
    """Raw bytes written after the handshake, and the close code the gateway must answer."""

    name: str
    data: bytes
    close_code: int


@dataclass(frozen=True)
class HandshakeCase:
    """A handshake (``{url_path}``, ``{host}`` and ``{token}`` filled in) and its status."""

    name: str
    request: bytes
    status: int


def message_routes() -> list[Route]:
    return [r for r in ROUTES if r.client_model is not None]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def valid_value(spec: dict[str, Any]) -> Any:
    """A value the field's schema accepts."""
    if spec.get("type") == "string":
        pattern = spec.get("pattern")
        candidate = "hostile_room" if pattern else "hello"
        assert pattern is None or re.fullmatch(pattern.strip("^$"), candidate), pattern
        return candidate
    if spec.get("type") == "integer":
        return max(1, int(spec.get("minimum", 1)))
    raise AssertionError(f"no valid example for {spec}")


def valid_message(route: Route) -> dict[str, Any]:
    assert route.client_model is not None
    properties = _schema(route.client_model)["properties"]
    return {"action": route.key} | {name: valid_value(properties[name]) for name in route.fields}


def is_valid(route: Route, document: Any) -> bool:
    assert route.client_model is not None
    try:
        route.client_model.model_validate(document)
    except ValidationError:
        return False
    return True


WRONG_TYPES: list[tuple[str, Any]] = [
    ("int", 1),
    ("float", 1.5),
    ("true", True),
    ("null", None),
    ("list", ["x"]),
    ("object", {"x": "y"}),
    ("empty-list", []),
]


def _route_cases(route: Route) -> list[MessageCase]:
    assert route.client_model is not None
    properties = _schema(route.client_model)["properties"]
    valid = valid_message(route)
    required = set(_schema(route.client_model).get("required", ())) - {"action"}
    # The action alone is a whole message only for a model with nothing else required.
    cases = [
        MessageCase(
            f"{route.key}:action-only",
            json.dumps({"action": route.key}),
            INVALID if required else SERVED,
        )
    ]
    for name in route.fields:
        spec = properties[name]
        cases.append(
            MessageCase(
                f"{route.key}:missing-{name}",
                json.dumps({k: v for k, v in valid.items() if k != name}),
                INVALID,
            )
        )
        for label, value in WRONG_TYPES:
            text = json.dumps(valid | {name: value})
            cases.append(MessageCase(f"{route.key}:{name}-{label}", text, INVALID))
        if spec.get("type") == "string":
            too_long = "a" * (int(spec.get("maxLength", 100_000)) + 1)
            for label, value in [
                ("empty", ""),
                ("too-long", too_long),
                ("nul", "a\u0000b") if spec.get("pattern") else ("too-long-emoji", "😀" * 5000),
                ("lone-surrogate-only", "\ud800") if spec.get("pattern") else ("empty2", ""),
            ]:
                text = json.dumps(valid | {name: value})
                cases.append(MessageCase(f"{route.key}:{name}-{label}", text, INVALID))
        deep = "[" * 500 + "]" * 500
        text = json.dumps(valid)[:-1] + f', "{name}": {deep}}}'
        cases.append(MessageCase(f"{route.key}:{name}-deep-500", text, INVALID))
    cases += [
        MessageCase(
            f"{route.key}:action-upper", json.dumps(valid | {"action": route.key.upper()}), HELP
        ),
        MessageCase(
            f"{route.key}:action-space", json.dumps(valid | {"action": f" {route.key}"}), HELP
        ),
        MessageCase(
            f"{route.key}:action-nul", json.dumps(valid | {"action": route.key + "\u0000"}), HELP
        ),
        MessageCase(
            f"{route.key}:duplicate-action-last-wins",
            json.dumps(valid)[:-1] + ', "action": "nope"}',
            HELP,
        ),
        MessageCase(f"{route.key}:truncated", json.dumps(valid)[:-1], HELP),
        MessageCase(f"{route.key}:as-array", json.dumps([valid]), HELP),
        MessageCase(
            f"{route.key}:deep-10000",
            '{"action": "' + route.key + '", "x": ' + "[" * 10_000 + "]" * 10_000 + "}",
            HELP,
        ),
    ]
    return cases


GENERIC_NOT_ROUTED: list[tuple[str, str]] = [
    ("empty", ""),
    ("space", " "),
    ("null", "null"),
    ("true", "true"),
    ("number", "1"),
    ("huge-exponent", "1e999999"),
    ("nan", "NaN"),
    ("infinity", "-Infinity"),
    ("string", '"joinroom"'),
    ("array", "[]"),
    ("object", "{}"),
    ("open-brace", "{"),
    ("close-brace", "}"),
    ("action-colon", '{"action":'),
    ("action-null", '{"action": null}'),
    ("action-number", '{"action": 1}'),
    ("action-true", '{"action": true}'),
    ("action-list", '{"action": ["joinroom"]}'),
    ("action-object", '{"action": {"a": 1}}'),
    ("action-$default", '{"action": "$default"}'),
    ("action-$connect", '{"action": "$connect"}'),
    ("action-$disconnect", '{"action": "$disconnect"}'),
    ("action-lone-surrogate", '{"action": "\\ud800"}'),
    ("action-low-surrogate", '{"action": "\\udfff", "x": "\\ud83d"}'),
    ("nul-char", "\u0000"),
    ("nul-in-json", '{"action": "x\\u0000y"}'),
    ("bom", "\ufeff{}"),
    ("rtl-override", '{"action": "\u202ejoinroom"}'),
    ("emoji", '{"action": "😀"}'),
    ("control-chars", "".join(chr(c) for c in range(32))),
    ("single-quotes", "{'action': 'joinroom'}"),
    ("trailing-comma", '{"action": "x",}'),
    ("comment", '{"action": "x" /* hi */}'),
    ("deep-array-900", "[" * 900 + "]" * 900),
    ("deep-array-1000", "[" * 1_000 + "]" * 1_000),
    ("deep-object-5000", '{"a":' * 5_000 + "1" + "}" * 5_000),
    ("deep-unclosed-20000", "[" * 20_000),
    ("deep-action-path", '{"action": ' + "[" * 3_000 + "]" * 3_000 + "}"),
    ("big-number", '{"action": ' + "9" * 10_000 + "}"),
    ("long-key", '{"' + "k" * 20_000 + '": 1}'),
    ("many-keys", json.dumps({f"k{i}": i for i in range(3_000)})),
    ("xml", "<action>joinroom</action>"),
    ("html-script", "<script>alert(1)</script>"),
    ("sql", '{"action": "x\'; DROP TABLE connections; --"}'),
    ("vtl-injection", '{"action": "$context.connectionId", "x": "#set($a = 1)${a}"}'),
    ("fragmented-100k", json.dumps({"pad": "p" * 100_000})),
]


def message_cases() -> list[MessageCase]:
    cases = [MessageCase(f"any:{n}", text, HELP) for n, text in GENERIC_NOT_ROUTED]
    for route in message_routes():
        cases += _route_cases(route)
    return cases


def valid_cases() -> list[MessageCase]:
    """The valid message of each route, with extra fields (ignored, per the models)."""
    return [
        MessageCase(
            f"{route.key}:valid-with-extra",
            json.dumps(valid_message(route) | {"extra": "\ud800", "from": "eve"}),
            SERVED,
        )
        for route in message_routes()
    ]


def frame_cases() -> list[FrameCase]:
    """Raw frames (built by ``rawws``) and RFC 6455's answer to each."""
    from tests.gateway.rawws import raw_frame

    text = b'{"action": "x"}'
    cases = [
        FrameCase("binary", raw_frame(0x82, b"\x00\x01"), 1003),
        FrameCase("binary-fragmented", raw_frame(0x02, b"\x00") + raw_frame(0x80, b"\x01"), 1003),
        FrameCase("unmasked-text", raw_frame(0x81, text, mask=False), 1002),
        FrameCase("unmasked-ping", raw_frame(0x89, b"", mask=False), 1002),
        FrameCase("rsv1-without-deflate", raw_frame(0xC1, text), 1002),
        FrameCase("rsv2", raw_frame(0xA1, text), 1002),
        FrameCase("rsv3", raw_frame(0x91, text), 1002),
        FrameCase("continuation-first", raw_frame(0x80, text), 1002),
        FrameCase("text-inside-fragmented", raw_frame(0x01, b"{") + raw_frame(0x81, b"}"), 1002),
        FrameCase("ping-over-125", raw_frame(0x89, b"p" * 126), 1002),
        FrameCase("fragmented-ping", raw_frame(0x09, b"p"), 1002),
        FrameCase("close-one-byte", raw_frame(0x88, b"\x03"), 1002),
        FrameCase("close-code-999", raw_frame(0x88, (999).to_bytes(2, "big")), 1002),
        FrameCase("close-code-1005", raw_frame(0x88, (1005).to_bytes(2, "big")), 1002),
        FrameCase("close-code-1006", raw_frame(0x88, (1006).to_bytes(2, "big")), 1002),
        FrameCase("close-code-5000", raw_frame(0x88, (5000).to_bytes(2, "big")), 1002),
        FrameCase("close-reason-not-utf8", raw_frame(0x88, b"\x03\xe8\xff\xfe"), 1007),
        FrameCase("text-not-utf8", raw_frame(0x81, b'{"action": "\xc3\x28"}'), 1007),
        FrameCase(
            "text-utf8-split-bad", raw_frame(0x01, b"\xe2\x82") + raw_frame(0x80, b"A"), 1007
        ),
        FrameCase("text-cesu-surrogate", raw_frame(0x81, b"\xed\xa0\x80"), 1007),
        FrameCase("frame-over-32k", raw_frame(0x81, b"x" * (32 * 1024 + 1)), 1009),
        FrameCase(
            "message-over-128k",
            b"".join(
                raw_frame((0x01 if i == 0 else 0x00) | (0x80 if i == 4 else 0), b"y" * 30_000)
                for i in range(5)
            ),
            1009,
        ),
    ]
    cases += [
        FrameCase(f"opcode-{op:x}", raw_frame(0x80 | op, text), 1002) for op in (3, 4, 5, 6, 7)
    ]
    cases += [
        FrameCase(f"control-opcode-{op:x}", raw_frame(0x80 | op, b""), 1002)
        for op in (0xB, 0xC, 0xD, 0xE, 0xF)
    ]
    return cases


def handshake_cases(path: str, host: str, key_headers: list[bytes]) -> list[HandshakeCase]:
    """Upgrade requests: malformed, unauthorized, oversized, byte-hostile."""

    def request(*lines: bytes, target: bytes | None = None) -> bytes:
        head = [b"GET " + (target or path.encode()) + b" HTTP/1.1", b"Host: " + host.encode()]
        return b"\r\n".join([*head, *lines]) + b"\r\n\r\n"

    upgrade = [
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        b"Sec-WebSocket-Version: 13",
    ]
    auth = key_headers
    return [
        HandshakeCase("no-upgrade", request(*auth), 426),
        HandshakeCase("no-key", request(*upgrade[:2], upgrade[3], *auth), 400),
        HandshakeCase(
            "short-key", request(*upgrade[:2], b"Sec-WebSocket-Key: AAAA", upgrade[3], *auth), 400
        ),
        HandshakeCase(
            "key-0xff",
            request(*upgrade[:2], b"Sec-WebSocket-Key: \xff" * 1, upgrade[3], *auth),
            400,
        ),
        # RFC 6455 4.2.2 says "such as 426"; websockets answers 400 and AWS documents nothing.
        HandshakeCase("version-8", request(*upgrade[:3], b"Sec-WebSocket-Version: 8", *auth), 400),
        HandshakeCase("no-connection-upgrade", request(upgrade[0], *upgrade[2:], *auth), 426),
        HandshakeCase("unknown-stage", request(*upgrade, *auth, target=b"/nostage"), 403),
        HandshakeCase(
            "path-traversal", request(*upgrade, *auth, target=path.encode() + b"/../x"), 403
        ),
        HandshakeCase("no-token", request(*upgrade), 401),
        HandshakeCase("blank-token", request(*upgrade, b"Authorization:   "), 401),
        HandshakeCase("garbage-token", request(*upgrade, b"Authorization: Bearer not.a.jwt"), 403),
        HandshakeCase(
            "alg-none-token", request(*upgrade, b"Authorization: Bearer " + _alg_none()), 403
        ),
        HandshakeCase("token-0xff", request(*upgrade, b"Authorization: Bearer \xff\xfe\xfd"), 403),
        HandshakeCase(
            "header-over-10240", request(*upgrade, *auth, b"X-Big: s3cr3t" + b"a" * 10_300), 431
        ),
        HandshakeCase(
            "header-over-aiohttp-limit",
            request(*upgrade, *auth, b"X-Big: s3cr3t" + b"a" * 50_000),
            431,
        ),
        HandshakeCase(
            "many-small-headers",
            request(*upgrade, *auth, *(b"X-H%d: %s" % (i, b"v" * 100) for i in range(120))),
            431,
        ),
        HandshakeCase(
            "user-agent-0xff", request(*upgrade, *auth, b"User-Agent: agent\xff\xfe"), 101
        ),
        HandshakeCase("user-agent-utf8", request(*upgrade, *auth, "User-Agent: ä😀".encode()), 101),
        HandshakeCase("trailing-slash", request(*upgrade, *auth, target=path.encode() + b"/"), 101),
        # A raw 0xFF is not allowed in a request target (RFC 3986): refused before routing.
        HandshakeCase(
            "query-0xff", request(*upgrade, *auth, target=path.encode() + b"?q=\xff"), 400
        ),
        HandshakeCase(
            "query-escaped-ff", request(*upgrade, *auth, target=path.encode() + b"?q=%ff"), 101
        ),
    ]


def _alg_none() -> bytes:
    import base64

    def part(data: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    return part({"alg": "none", "typ": "JWT"}) + b"." + part({"sub": "eve", "exp": 2**31}) + b"."


# -- fuzzing ---------------------------------------------------------------------------------

_ALPHABET = [
    "a", "action", '"', "\\", "{", "}", "[", "]", ":", ",", " ", "0", "-1", "1e9", "null",
    "true", "\u0000", "\\u0000", "\\ud800", "\\udfff", "é", "😀", "\u202e", "\ufeff", "\n",
]  # fmt: skip


def _mutate_document(rng: random.Random, document: dict[str, Any]) -> Any:
    choice = rng.randrange(8)
    key = rng.choice(list(document))
    if choice == 0:
        return {k: v for k, v in document.items() if k != key}
    if choice == 1:
        return document | {key: rng.choice([v for _, v in WRONG_TYPES])}
    if choice == 2:
        return document | {key: "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 40)))}
    if choice == 3:
        depth = rng.choice([10, 200, 999, 1_001, 3_000])
        return document | {key: json.loads("[" * min(depth, 900) + "]" * min(depth, 900))}
    if choice == 4:
        return document | {key: "x" * rng.choice([0, 65, 4_097, 20_000])}
    if choice == 5:
        return [document]
    if choice == 6:
        return document | {"action": rng.choice(["", "$default", "$connect", "JOINROOM", None, 7])}
    return document | {f"extra{rng.randrange(9)}": rng.choice(_ALPHABET)}


def _mutate_text(rng: random.Random, text: str) -> str:
    choice = rng.randrange(5)
    position = rng.randrange(len(text) + 1)
    if choice == 0:
        return text[:position]
    if choice == 1:
        return text[:position] + rng.choice(_ALPHABET) + text[position:]
    if choice == 2:
        return text[:position] + text[position + 1 :]
    if choice == 3:
        depth = rng.choice([100, 999, 1_500, 10_000])
        return text[:position] + "[" * depth + "]" * depth + text[position:]
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 60)))


@functools.cache
def _gateway_validators() -> dict[str, Draft4Validator]:
    schemas = gateway_schemas()
    return {
        r.key: Draft4Validator(schemas[r.model_name].schema)
        for r in message_routes()
        if r.model_name
    }


def gateway_accepts(route: Route, document: Any) -> bool:
    """Whether the route's API Gateway model (draft-04 JSON schema) accepts ``document``."""
    if not isinstance(document, dict) or document.get("action") != route.key:
        return False
    return not any(_gateway_validators()[route.key].iter_errors(document))


def fuzz_frames(seed: int, count: int) -> list[str]:
    """``count`` hostile text messages (valid UTF-8, under 32 KB) derived from every route.

    A frame the gateway's model accepts is a valid request (a ``joinroom`` legitimately
    changes the store), so the fuzzer keeps only inputs that no route's model accepts: each
    must get ``$default``'s help frame or ``Invalid request body``.
    """
    rng = random.Random(seed)
    routes = message_routes()
    frames: list[str] = []
    while len(frames) < count:
        route = rng.choice(routes)
        document: Any = _mutate_document(rng, valid_message(route))
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.5:
            text = _mutate_text(rng, text)
        if len(text.encode()) > 30_000:
            continue
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if any(is_valid(r, parsed) or gateway_accepts(r, parsed) for r in routes):
            continue
        frames.append(text)
    return frames
