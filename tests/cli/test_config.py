"""``wsgate local``'s settings: flag > ``WSGATE_LOCAL_*`` > ``[tool.wsgate.local]`` > default,
as ``--show-config`` reports them, and the variables never reach the stack's children."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared import names
from wsgate.cli.config import LOCAL_ENV_PREFIX, scrub_local_environment
from wsgate.deploy.config import load_config

PYPROJECT = """\
[tool.wsgate]
stack = "chat"
[tool.wsgate.local]
gateway-port = 3101
service-port = 8181
moto-port = 8101
seed-users = ["carol", "dave"]
param = ["UsagePlanBurstLimit=2"]
api-key-source = "header"
"""


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(LOCAL_ENV_PREFIX)}
    return subprocess.run(
        [sys.executable, "-m", "wsgate", "local", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=clean | (env or {}),
    )


def _settings(output: str) -> dict[str, tuple[str, str]]:
    """``--show-config``'s rows: setting -> (value, source)."""
    rows = {}
    for line in output.splitlines():
        key, value, source = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        rows[key] = (value, source)
    return rows


def test_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    env = {
        f"{LOCAL_ENV_PREFIX}_SERVICE_PORT": "8282",
        f"{LOCAL_ENV_PREFIX}_GATEWAY_PORT": "3202",
        f"{LOCAL_ENV_PREFIX}_PARAM": "UsagePlanBurstLimit=3 UsagePlanRateLimit=4",
        f"{LOCAL_ENV_PREFIX}_TOKEN_SECRET": "t" * 40,
    }
    done = _run(tmp_path, "--show-config", "--gateway-port", "3303", env=env)
    assert done.returncode == 0, done.stderr
    rows = _settings(done.stdout)
    file = "file pyproject.toml [tool.wsgate.local]"
    assert rows["gateway-port"] == ("3303", "flag")  # flag beats env and file
    assert rows["service-port"] == ("8282", f"env {LOCAL_ENV_PREFIX}_SERVICE_PORT")  # env > file
    assert rows["moto-port"] == ("8101", file)  # file > default
    assert rows["console-port"] == ("3000", "default")
    assert rows["seed-users"] == ("carol,dave", file)
    assert rows["api-key-source"] == ("header", file)
    assert rows["param"] == (
        "UsagePlanBurstLimit=3 UsagePlanRateLimit=4",
        f"env {LOCAL_ENV_PREFIX}_PARAM",
    )
    assert rows["token-secret"] == ("(set)", f"env {LOCAL_ENV_PREFIX}_TOKEN_SECRET")
    assert "t" * 40 not in done.stdout


def test_unknown_file_key_is_one_line_naming_the_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.wsgate.local]\ngateway_prt = 1\n")
    done = _run(tmp_path, "--show-config")
    assert done.returncode != 0
    (line,) = done.stderr.splitlines()
    assert "'gateway_prt'" in line and "gateway-port" in line and "seed-users" in line


def test_deploy_reads_the_same_table_and_ignores_the_local_section(tmp_path: Path) -> None:
    """One reader of ``[tool.wsgate]``: ``wsgate deploy`` still refuses its own unknown keys."""
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    assert load_config(path, {}).stack == "chat"


def test_local_variables_are_scrubbed_before_children_start() -> None:
    environ = {
        f"{LOCAL_ENV_PREFIX}_GATEWAY_PORT": "1",
        names.ENV_LOG_LEVEL: "INFO",
        "PATH": "/bin",
    }
    scrub_local_environment(environ)
    assert environ == {names.ENV_LOG_LEVEL: "INFO", "PATH": "/bin"}


@pytest.mark.parametrize("name", ["GATEWAY_PORT", "SEED_USERS", "STATE_DIR", "API_KEY_SOURCE"])
def test_variable_names_are_not_names_the_service_reads(name: str) -> None:
    """The local stack's variables are a separate family from the processes' own settings."""
    assert f"{LOCAL_ENV_PREFIX}_{name}" not in names.env_names()


def test_make_run_passes_args() -> None:
    """``make run ARGS=...`` appends the flags to ``wsgate local --reload``. Run from inside
    ``make test`` too, so the outer make's flags (which print "Entering directory" lines) are
    not passed down."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "ARGS=--gateway-port 3101"],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env=env,
        timeout=60,
    )
    last_line = done.stdout.strip().splitlines()[-1]
    assert last_line.endswith("wsgate local --reload --gateway-port 3101"), done.stdout
