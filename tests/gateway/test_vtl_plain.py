"""Plain templates (text and ``$a.b`` references) filled without the Velocity engine: always
the same output as airspeed's, and the engine really is skipped for them."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pytest

from infra.websocket_api import MOCK_REPLY, MOCK_TEMPLATE
from wsgate.gateway import vtl
from wsgate.gateway.vtl import Input, Util, compile_template, render
from wsgate.gateway.vtl_plain import fill, plain_form

CONTEXT: dict[str, Any] = {
    "routeKey": "joinroom",
    "connectionId": "ZDb-VclrIAMCJ3w=",
    "connectedAt": 1674162806344,
    "messageId": None,
    "identity": {"sourceIp": "127.0.0.1", "apiKey": None, "userAgent": "ua $x #y \\z"},
    "authorizer": {"principalId": "alice", "keys": "shadowed"},
    "status": True,
}
STAGE_VARIABLES = {"backend": "http://x", "empty": ""}

PIECES = [
    "$context.routeKey",
    "$context.connectionId",
    "$context.identity.sourceIp",
    "$context.identity.userAgent",
    "$context.identity.apiKey",
    "$context.authorizer.principalId",
    "$context.authorizer.keys",
    "$context.connectedAt",
    "$context.messageId",
    "$context.status",
    "$context.missing",
    "$context.keys",
    "$context.routeKey.length()",
    "$context.routeKey()",
    "$context.routeKey[0]",
    "$context.routeKey-x",
    "$context",
    "$stageVariables.backend",
    "$stageVariables.empty",
    "$stageVariables.nope",
    "$input.body",
    "$util.urlEncode('a b')",
    "${context.routeKey}",
    "$!context.missing",
    "#if(true)yes#end",
    "## a comment\n",
    "\\$context.routeKey",
    "$",
    "$.",
    "$1",
    "{",
    "}",
    '"',
    ".",
    "-",
    "(",
    "[",
    "!",
    " ",
    "\n",
    "é",
    "text",
]


def _engine(template: str) -> str:
    """What airspeed alone renders, with the namespace ``vtl.render`` gives it."""
    namespace = {
        "context": CONTEXT,
        "stageVariables": STAGE_VARIABLES,
        "input": Input('{"a": 1}', None),
        "util": Util(),
    }
    return str(compile_template(template).merge(namespace))


def _outcome(produce: Any) -> tuple[str, str]:
    try:
        return "ok", produce()
    except Exception as error:
        return "error", type(error).__name__


def test_random_templates_render_as_airspeed_renders_them() -> None:
    generator = random.Random(20261125)
    plain = 0
    for _ in range(3000):
        template = "".join(generator.choice(PIECES) for _ in range(generator.randint(0, 6)))
        if plain_form(template) is not None:
            plain += 1
        expected = _outcome(partial(_engine, template))
        got = _outcome(
            partial(
                render, template, context=CONTEXT, stage_variables=STAGE_VARIABLES, body='{"a": 1}'
            )
        )
        assert got == expected, template
    assert plain > 100  # the comparison covered the fast path, not only the engine


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (MOCK_TEMPLATE, MOCK_TEMPLATE),
        (MOCK_REPLY, '{"routeKey": "joinroom", "connectionId": "ZDb-VclrIAMCJ3w="}'),
        ("$context.identity.sourceIp:$stageVariables.backend", "127.0.0.1:http://x"),
    ],
)
def test_plain_templates_skip_the_engine(
    template: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_engine(text: str) -> Any:
        raise AssertionError(f"the Velocity engine was asked to render {text!r}")

    monkeypatch.setattr(vtl, "compile_template", no_engine)
    assert render(template, context=CONTEXT, stage_variables=STAGE_VARIABLES) == expected


@pytest.mark.parametrize(
    "template",
    ["#set($a = 1)$a", "${context.routeKey}", "\\$x", "$input.body", "$context.routeKey()"],
)
def test_velocity_beyond_plain_references_goes_to_the_engine(template: str) -> None:
    assert plain_form(template) is None


@pytest.mark.parametrize(
    "reference", ["$context.messageId", "$context.connectedAt", "$context.missing"]
)
def test_null_missing_and_non_string_values_go_to_the_engine(reference: str) -> None:
    form = plain_form(reference)
    assert form is not None
    assert fill(form, {"context": CONTEXT}) is None
