"""``chalice package`` with nothing edited by hand, and both handlers run from the zip alone.

The zip is unpacked into a fresh virtualenv holding only what the Lambda runtime provides
(boto3), so a module the package forgot (``shared/``, a requirement) fails here, not in AWS.
Slow (it downloads the Lambda requirements from PyPI) but it is the only proof that the
deployment artifact works; it runs in ``make test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from shared.names import StackNames
from shared.routes import Route, lambda_routes
from tests.chalice.test_lean import handler_string, lambda_shared_modules
from tests.support.moto import client, create_connections_table, moto_server

PROJECT = Path(__file__).resolve().parents[2] / "chalice_app"

MAX_PACKAGE_BYTES = 24_000_000
"""The zip is ~22.9 MB, 15.6 MB of it the botocore that aiobotocore pins (the runtime's own
botocore is another version, so it cannot be reused): a new dependency shows up here."""
FORBIDDEN_TOP_LEVEL: tuple[str, ...] = (
    "tests/",
    "infra/",
    "wsgate/",
    "ec2_service/",
    "pytest",
    "_pytest/",
)
FORBIDDEN_TOP_LEVEL += ("moto/", "sanic/", "troposphere/", "awacs/", "cryptography/", "pip/")

LEAN_IMPORT = """
import importlib, json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
importlib.import_module(sys.argv[2])
elapsed = time.perf_counter() - started
heavy = [m for m in json.loads(sys.argv[3]) if m in sys.modules]
print(json.dumps({"import_s": elapsed, "heavy": heavy}))
"""
NOT_AT_IMPORT = ("aiobotocore", "aiohttp", "boto3", "chalicelib.ops")
"""What no handler module imports at cold start (``app`` imports the ops code on first use)."""
NOT_FOR_THE_AUTHORIZER = (*NOT_AT_IMPORT, "pydantic", "shared.routes", "chalicelib.lambda_routes")

INVOKE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib
module, _, name = sys.argv[2].rpartition(".")
event = json.loads(sys.argv[3])
handler = getattr(importlib.import_module(module), name)
try:
    print(json.dumps(handler(event, None)))
except Exception as error:
    print(json.dumps({"raised": str(error)}))
"""


@dataclass
class BareLambda:
    """The unpacked zip run by a Python holding only what the Lambda runtime provides."""

    python: Path
    package: Path
    env: dict[str, str]

    def invoke(self, handler: str, event: object) -> Any:
        run = subprocess.run(
            [str(self.python), "-c", INVOKE, str(self.package), handler, json.dumps(event)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])

    def cold_import(self, handler: str, heavy: tuple[str, ...]) -> dict[str, Any]:
        """Import exactly the module Lambda imports for ``handler``; which of ``heavy`` came."""
        module = handler.rpartition(".")[0]
        lean = subprocess.run(
            [str(self.python), "-c", LEAN_IMPORT, str(self.package), module, json.dumps(heavy)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=True,
        )
        return dict(json.loads(lean.stdout.strip().splitlines()[-1]))


def _build(tmp_path: Path) -> Path:
    """``chalice package`` into ``tmp_path/out``, checked for what it must and must not hold."""
    out = tmp_path / "out"
    chalice = Path(sys.executable).with_name("chalice")
    region = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}  # chalice wants one configured
    done = subprocess.run(
        [str(chalice), "package", str(out)],
        env=region,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        entries = archive.namelist()
        archive.extractall(tmp_path / "package")
    assert "chalicelib/authorizer.py" in entries and "chalicelib/ops.py" in entries
    assert not any(entry.startswith(FORBIDDEN_TOP_LEVEL) for entry in entries)
    shipped = {entry for entry in entries if entry.startswith("shared/")}
    assert shipped == {f"shared/{m.split('.')[1]}.py" for m in lambda_shared_modules()} | {
        "shared/__init__.py"
    }
    size = (out / "deployment.zip").stat().st_size
    assert size < MAX_PACKAGE_BYTES, size
    return out


def _sam_handlers(out: Path) -> dict[str, str]:
    """Chalice function name -> the handler string ``sam.json`` gives Lambda."""
    sam = json.loads((out / "sam.json").read_text())["Resources"]
    names = ("authorizer", "ops", "prune", *(r.function_name for r in lambda_routes()))
    return {name: sam[to_cfn_resource_name(name)]["Properties"]["Handler"] for name in names}


def _route_event(route: Route) -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": route.key,
            "eventType": "MESSAGE",
            "connectionId": "c=",
            "requestId": "r=",
            "domainName": "a.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            "apiId": "a",
            "connectedAt": 1,
            "requestTimeEpoch": 2,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps({"action": route.key}),
        "isBase64Encoded": False,
    }


def test_chalice_package_runs_in_a_bare_virtualenv(tmp_path: Path) -> None:
    out = _build(tmp_path)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "boto3"], check=True, timeout=600)

    with moto_server() as endpoint:
        secret = "s" * 48
        client("ssm", endpoint).put_parameter(
            Name="/wsgate/token-secret", Value=secret, Type="SecureString", Overwrite=True
        )
        env = {
            "AWS_ENDPOINT_URL_SSM": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PATH": "/usr/bin:/bin",
        }
        bare = BareLambda(python, tmp_path / "package", env)
        token = subprocess.run(
            [sys.executable, "-m", "wsgate.cli", "token", "--user", "zip", "--secret", secret],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        # Every function runs the handler string the app declares (the repository's
        # ``chalice_app.`` prefix is the package's top level).
        by_function = _sam_handlers(out)
        for name, handler in by_function.items():
            assert handler == handler_string(name).removeprefix("chalice_app."), name
            assert bare.cold_import(handler, NOT_AT_IMPORT)["heavy"] == [], handler
        cold = bare.cold_import(by_function["authorizer"], NOT_FOR_THE_AUTHORIZER)
        assert cold["heavy"] == [], cold  # the authorizer's cold start imports it alone
        print(f"cold import of the authorizer from the zip: {cold['import_s'] * 1000:.0f} ms")

        allowed = bare.invoke(
            by_function["authorizer"],
            {
                "methodArn": "arn:aws:execute-api:us-east-1:1:a/prod/$connect",
                "headers": {"Authorization": f"Bearer {token}"},
            },
        )
        assert allowed["principalId"] == "zip"
        refused = bare.invoke(by_function["ops"], {"action": "nope"})
        assert refused["error"] == "invalid ops request"

        # Each Lambda route's function, by the handler string the SAM template gives Lambda.
        names = StackNames("wsgate", "prod")
        create_connections_table(endpoint, names.table)
        client("ssm", endpoint).put_parameter(
            Name=names.table_name_parameter, Value=names.table, Type="String", Overwrite=True
        )
        bare.env |= {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "WSGATE_STAGE": "prod"}
        for route in lambda_routes():
            answered = bare.invoke(by_function[route.function_name], _route_event(route))
            assert answered["statusCode"] == 200, answered
