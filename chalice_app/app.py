"""wsgate's Lambdas, deployed with ``chalice deploy``: the ``$connect`` authorizer and ops.

Importable two ways: as ``app`` by Chalice (``chalicelib`` is then top-level) and as
``chalice_app.app`` from the repository. Nothing here touches the network at import time.

Lambda imports the module a function's handler string names. Functions declared on ``app``
below (ops, the schedule) run ``app.py``; blueprint functions run their blueprint's module:
the authorizer ``chalicelib.authorizer_handler`` (every ``$connect`` waits for its cold start,
so that module imports the authorizer alone) and each Lambda route
``chalicelib.lambda_routes``. The ops module (pydantic, aiobotocore, aiohttp) is imported the
first time an ops function runs.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from chalice.app import Chalice, Rate

try:  # inside the deployment package
    from chalicelib import authorizer_handler, lambda_routes

    _PACKAGE = "chalicelib"
except ModuleNotFoundError:  # imported from the repository root
    from chalice_app.chalicelib import authorizer_handler, lambda_routes

    _PACKAGE = "chalice_app.chalicelib"

app = Chalice(app_name="wsgate")
app.log.setLevel(logging.INFO)
app.register_blueprint(authorizer_handler.blueprint)  # the $connect authorizer
app.register_blueprint(lambda_routes.blueprint)  # the backend="lambda" WebSocket routes


def _ops() -> ModuleType:
    """The ops logic, imported on first use (it is cached in ``sys.modules`` afterwards)."""
    return importlib.import_module(f"{_PACKAGE}.ops")


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
