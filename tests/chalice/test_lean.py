"""The authorizer's cold start imports the authorizer only, and the package ships exactly the
``shared`` modules the Lambdas import (``chalice_app/vendor/shared`` holds one symlink each).

Lambda imports the module a function's handler string names: ``app`` for functions declared
on the app, the blueprint's module for blueprint functions. Every ``$connect`` waits for the
authorizer's cold start, so its handler module must not pull in the Lambda routes (pydantic,
the route table) or the ops code (aiobotocore, aiohttp); the functions that run ``app.py``
import the ops code only when they run.

Lambda's Python runtime splits the handler string at its last dot and imports the module
before it (https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html#naming: the
handler name is the file's name and the function's); the probes below do exactly that.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from chalice_app.app import app

VENDOR = Path(__file__).resolve().parents[2] / "chalice_app" / "vendor" / "shared"

PROBE = """
import json, sys
import chalice_app.app as app
after_import = sorted(sys.modules)
from chalice_app.chalicelib import ops, prune, api_keys  # what the ops functions import
print(json.dumps({"after_import": after_import, "all": sorted(sys.modules)}))
"""


HANDLER_PROBE = """
import importlib, json, sys
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
print(json.dumps({"callable": callable(handler), "modules": sorted(sys.modules)}))
"""
NOT_FOR_THE_AUTHORIZER = (
    "pydantic",
    "pydantic_core",
    "aiobotocore",
    "aiohttp",
    "boto3",
    "botocore",
    "shared.routes",
    "chalice_app.app",
    "chalice_app.chalicelib.lambda_routes",
    "chalice_app.chalicelib.ops",
)
"""What the authorizer's cold start must not import: the Lambda routes' and ops' code and
libraries, and the AWS SDK (the secret is read with boto3 on the first call, not at import)."""


def handler_string(function_name: str) -> str:
    """What Lambda imports for ``function_name``, located in the repository: Chalice's
    ``app.<name>`` is ``chalice_app/app.py``, as in ``wsgate.gateway.lambda_functions``."""
    handlers = {f.name: f.handler_string for f in app.pure_lambda_functions}
    handlers |= {source.name: source.handler_string for source in app.event_sources}
    handler = handlers[function_name]
    return f"chalice_app.{handler}" if handler.startswith("app.") else handler


def imported_by_handler(handler: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter after importing exactly ``handler``'s module."""
    done = subprocess.run(
        [sys.executable, "-c", HANDLER_PROBE, handler],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    probe = json.loads(done.stdout)
    assert probe["callable"], handler
    return set(probe["modules"])


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in NOT_FOR_THE_AUTHORIZER if m == h or m.startswith(h + ".")}


def test_the_authorizers_handler_module_imports_the_authorizer_alone() -> None:
    handler = handler_string("authorizer")
    assert not handler.startswith("chalice_app.app."), handler  # its own module, not app.py
    loaded = imported_by_handler(handler)
    assert "chalice_app.chalicelib.authorizer" in loaded and "jwt" in loaded
    assert not _heavy(loaded), sorted(_heavy(loaded))


def test_the_app_registers_no_middleware_the_authorizer_would_miss() -> None:
    """The authorizer's cold start never runs ``app.py``, so app middleware would not wrap it
    (aws/chalice#1566): wrap it in its own module instead."""
    assert app.middleware_handlers == []


def _probe() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    return dict(json.loads(done.stdout))


def lambda_shared_modules() -> set[str]:
    """``shared.*`` modules imported by the Lambdas' code (authorizer and ops together)."""
    return {m for m in _probe()["all"] if m.startswith("shared.")}


def test_importing_the_app_loads_no_ops_code() -> None:
    loaded = set(_probe()["after_import"])
    # pydantic and the route table come with the Lambda routes' blueprint (their functions
    # are registered when app.py is imported); the AWS SDKs and the ops code never do.
    heavy = {"aiobotocore", "aiohttp", "boto3", "botocore"}
    assert not heavy & loaded, heavy & loaded
    assert "chalice_app.chalicelib.ops" not in loaded
    shared = {m for m in loaded if m.startswith("shared.")}
    assert "shared.connection_store" not in shared and "shared.connections_api" not in shared


def test_the_vendor_directory_holds_exactly_the_imported_shared_modules() -> None:
    vendored = {f"shared.{p.stem}" for p in VENDOR.glob("*.py") if p.stem != "__init__"}
    assert vendored == lambda_shared_modules()
    for link in VENDOR.glob("*.py"):
        assert link.is_symlink() and link.resolve().parent.name == "shared", link


def test_the_local_gateway_runs_the_module_lambda_runs() -> None:
    """``wsgate gateway`` (and so ``wsgate local``) calls the authorizer in-process by a
    ``module:attribute`` spec; it must name the function Chalice deploys, not a copy."""
    from wsgate.cli.gateway import gateway
    from wsgate.gateway.authorizer import load_function
    from wsgate.gateway.config import DEFAULT_AUTHORIZER

    (cli_default,) = [p.default for p in gateway.params if p.name == "authorizer"]
    module, _, name = handler_string("authorizer").rpartition(".")
    assert DEFAULT_AUTHORIZER == cli_default == f"{module}:{name}"
    assert load_function(DEFAULT_AUTHORIZER) is getattr(importlib.import_module(module), name)
