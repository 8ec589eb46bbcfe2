"""wsgate's Lambdas, deployed with ``chalice deploy``: the ``$connect`` authorizer and ops.

Importable two ways: as ``app`` by Chalice (``chalicelib`` is then top-level) and as
``chalice_app.app`` from the repository, where the local gateway calls ``authorizer`` in-process.
Nothing here touches the network at import time.

Every function of a Chalice app shares one module, so a cold start of any of them imports this
file. The authorizer sits on every ``$connect``: only its own module is imported here, and the
ops module (pydantic, aiobotocore, aiohttp) is imported the first time an ops function runs.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from chalice import Chalice, Rate

try:  # inside the deployment package
    from chalicelib import authorizer as auth
    from chalicelib import lambda_routes
    from chalicelib.secret_parameter import default_ring

    _PACKAGE = "chalicelib"
except ModuleNotFoundError:  # imported from the repository root
    from chalice_app.chalicelib import authorizer as auth
    from chalice_app.chalicelib import lambda_routes
    from chalice_app.chalicelib.secret_parameter import default_ring

    _PACKAGE = "chalice_app.chalicelib"

app = Chalice(app_name="wsgate")
app.log.setLevel(logging.INFO)
app.register_blueprint(lambda_routes.blueprint)  # the backend="lambda" WebSocket routes


def _ops() -> ModuleType:
    """The ops logic, imported on first use (it is cached in ``sys.modules`` afterwards)."""
    return importlib.import_module(f"{_PACKAGE}.ops")


@app.lambda_function(name="authorizer")
def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REQUEST authorizer for ``$connect``: 401 without a token, 403 for a bad one."""
    return auth.authorize(event, default_ring())


@app.lambda_function(name="ops")
def ops(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """broadcast / prune / kick / issue_api_key / usage, selected by ``action``."""
    result: dict[str, Any] = _ops().run(event, context=context)
    return result


@app.schedule(Rate(15, unit=Rate.MINUTES), name="prune")
def scheduled_prune(event: Any) -> dict[str, Any]:
    """Remove records whose ``$disconnect`` never arrived (API Gateway delivers it best-effort).

    Each run resumes where the previous one stopped (the position is kept in SSM), so a large
    backlog is worked off across runs instead of timing out and deleting nothing.
    """
    result: dict[str, Any] = _ops().run(
        {"action": "prune", "persistResume": True}, context=getattr(event, "context", None)
    )
    return result
