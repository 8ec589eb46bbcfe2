"""Every user mistake on the command line is one line saying what to do: no traceback, no usage
block, nothing started. Each case runs ``python -m wsgate`` as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chalice_app.chalicelib.tokens import MIN_SECRET_BYTES
from shared.names import DEFAULT_STAGE

CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    # (id, argv after "wsgate", words the one line must contain: the flag and the fix)
    (
        "gateway-param-type",
        [
            "gateway",
            "--template",
            "{yaml}",
            "--backend",
            "http://127.0.0.1:1",
            "--param",
            "UsagePlanBurstLimit=abc",
        ],
        ("--param", "UsagePlanBurstLimit", "must be a number"),
    ),
    (
        "gateway-param-min-value",
        [
            "gateway",
            "--template",
            "{yaml}",
            "--backend",
            "http://127.0.0.1:1",
            "--param",
            "UsagePlanRateLimit=0",
        ],
        ("--param", "UsagePlanRateLimit", "at least 1"),
    ),
    (
        "gateway-param-allowed-values",
        [
            "gateway",
            "--template",
            "{yaml}",
            "--backend",
            "http://127.0.0.1:1",
            "--param",
            "UsagePlanQuotaPeriod=YEAR",
        ],
        ("--param", "UsagePlanQuotaPeriod", "one of"),
    ),
    (
        "gateway-vpc-link-without-backend",
        ["gateway", "--template", "{yaml}"],
        ("--backend", "VPC link", "http://127.0.0.1:8080"),
    ),
    (
        "gateway-backend-not-a-url",
        ["gateway", "--template", "{yaml}", "--backend", "localhost"],
        ("--backend", "not an http(s) URL"),
    ),
    (
        "local-unknown-param",
        ["local", "--state-dir", "{state}", "--param", "Foo=1"],
        ("--param", "'Foo'", "its parameters are", "UsagePlanBurstLimit"),
    ),
    (
        "local-short-token-secret",
        ["local", "--state-dir", "{state}", "--token-secret", "short"],
        ("--token-secret", f"at least {MIN_SECRET_BYTES} bytes", "omit it"),
    ),
    (
        "local-short-api-key",
        ["local", "--state-dir", "{state}", "--api-key", "short"],
        ("--api-key", "20-128 characters"),
    ),
    (
        "local-bad-seed-user",
        ["local", "--state-dir", "{state}", "--seed-users", "alice,bad name!"],
        ("--seed-users", "'bad name!'", "1-32 letters"),
    ),
    (
        "synth-backend-url-ignored-by-mock",
        ["synth", "--insecure-no-authorizer", "--integration", "mock", "--backend-url", "X"],
        ("--backend-url", "--integration http", "drop it"),
    ),
    (
        "synth-backend-url-not-a-url",
        [
            "synth",
            "--insecure-no-authorizer",
            "--integration",
            "http",
            "--backend-url",
            "not-a-url",
        ],
        ("--backend-url", "not an http(s) URL"),
    ),
    (
        "token-bad-user",
        ["token", "--user", "bad name!", "--secret", "s" * MIN_SECRET_BYTES],
        ("--user", "1-32 letters"),
    ),
    (
        "token-negative-ttl",
        ["token", "--user", "bob", "--ttl", "-5", "--secret", "s" * MIN_SECRET_BYTES],
        ("--ttl", "range"),
    ),
    (
        "invoke-not-json",
        ["invoke", "ops", "{action:broadcast}", "--state-dir", "{state}"],
        ("not JSON", "quote it"),
    ),
    (
        "invoke-unknown-action",
        ["invoke", "ops", '{"action":"explode"}', "--state-dir", "{state}"],
        ("explode", "broadcast", "usage"),
    ),
    (
        "invoke-missing-field",
        ["invoke", "ops", '{"action":"kick"}', "--state-dir", "{state}"],
        ("kick.connectionId", "Field required"),
    ),
    (
        "invoke-authorizer",
        ["invoke", "authorizer", "--state-dir", "{state}"],
        ("$connect", "wsgate token"),
    ),
    (
        "invoke-no-stack",
        ["invoke", "ops", '{"action":"broadcast","message":"hi"}', "--state-dir", "{state}"],
        ("start one with `wsgate local`",),
    ),
]


@pytest.fixture(scope="module")
def yaml_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``wsgate synth --format yaml`` writes: ``wsgate gateway`` must read it."""
    path = tmp_path_factory.mktemp("synth") / "template.yaml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wsgate",
            "synth",
            "--format",
            "yaml",
            "--insecure-no-authorizer",
            "-o",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_line_error(
    argv: list[str], words: tuple[str, ...], yaml_template: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    places = {"{yaml}": str(yaml_template), "{state}": str(state)}
    args = [places.get(a, a) for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", "wsgate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode != 0, done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0], lines[0]
    assert not state.exists(), "a refused command must not start anything"


def test_gateway_reads_the_yaml_synth_writes(yaml_template: Path) -> None:
    """The gateway's loader reads the YAML into the same API as the route table declares."""
    from shared.routes import ROUTES
    from wsgate.gateway.template_loader import load_api

    api = load_api(yaml_template, backend="http://127.0.0.1:1")
    assert api.stage.name == DEFAULT_STAGE
    assert {route.key for route in ROUTES} <= set(api.routes)
