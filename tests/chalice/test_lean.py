"""The authorizer's cold start imports the authorizer only, and the package ships exactly the
``shared`` modules the Lambdas import (``chalice_app/vendor/shared`` holds one symlink each).

Every function of a Chalice app runs the same ``app.py``, so what it imports at module level
every ``$connect`` authorizer cold start pays for; the ops code (pydantic, aiobotocore,
aiohttp) is imported only when an ops function runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "chalice_app" / "vendor" / "shared"

PROBE = """
import json, sys
import chalice_app.app as app
after_import = sorted(sys.modules)
from chalice_app.chalicelib import ops, prune, api_keys  # what the ops functions import
print(json.dumps({"after_import": after_import, "all": sorted(sys.modules)}))
"""


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
