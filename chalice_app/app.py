"""wsgate's Lambdas, deployed with ``chalice deploy``: the ``$connect`` authorizer and ops.

Importable two ways: as ``app`` by Chalice (``chalicelib`` is then top-level) and as
``chalice_app.app`` from the repository, where the local gateway calls ``authorizer`` in-process.
Nothing here touches the network at import time.
"""

from __future__ import annotations

import logging
from typing import Any

from chalice import Chalice, Rate

try:  # inside the deployment package
    from chalicelib import authorizer as auth
    from chalicelib import lambda_routes
    from chalicelib import ops as ops_logic
    from chalicelib.secret_parameter import get_secret
except ModuleNotFoundError:  # imported from the repository root
    from chalice_app.chalicelib import authorizer as auth
    from chalice_app.chalicelib import lambda_routes
    from chalice_app.chalicelib import ops as ops_logic
    from chalice_app.chalicelib.secret_parameter import get_secret

app = Chalice(app_name="wsgate")
app.log.setLevel(logging.INFO)
app.register_blueprint(lambda_routes.blueprint)  # the backend="lambda" WebSocket routes


@app.lambda_function(name="authorizer")
def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REQUEST authorizer for ``$connect``: 401 without a token, 403 for a bad one."""
    return auth.authorize(event, get_secret())


@app.lambda_function(name="ops")
def ops(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """broadcast / prune / kick / issue_api_key / usage, selected by ``action``."""
    return ops_logic.run(event)


@app.schedule(Rate(15, unit=Rate.MINUTES), name="prune")
def scheduled_prune(event: Any) -> dict[str, Any]:
    """Remove records whose ``$disconnect`` never arrived (API Gateway delivers it best-effort)."""
    return ops_logic.run({"action": "prune"})
