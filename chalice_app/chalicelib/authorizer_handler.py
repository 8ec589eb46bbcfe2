"""The ``$connect`` authorizer's Lambda handler module, and nothing else.

Lambda imports only the module named by a function's handler string. Chalice writes
``app.<name>`` for functions declared on the app, so every one of them would import ``app.py``
and everything it registers (the Lambda routes' blueprint: pydantic, the route table). A
blueprint's functions get ``<blueprint import name>.<name>`` instead (``Blueprint.register``
passes its import name as ``module_name``; ``_do_register_handler`` formats the string), so
declaring the authorizer here makes its handler ``chalicelib.authorizer_handler.authorizer``:
a cold start pays for pyjwt, the authorizer's logic and Chalice's own ``chalice.app`` (a few ms
on top of what pyjwt already imports), never for the ops code or the Lambda routes.
``app.py`` registers this blueprint, so ``chalice deploy`` still names the function
``wsgate-<stage>-authorizer``.

Chalice's documentation: a blueprint's ``__name__`` "must match the import name of the module
so the function can be properly imported when running in Lambda"
(https://aws.github.io/chalice/topics/blueprints). Since ``app.py`` never runs in this
function, middleware registered on the app would not reach it (aws/chalice#1566); the app
registers none, and ``tests/chalice/test_lean.py`` keeps it that way.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from .authorizer import authorize
from .secret_parameter import default_ring

blueprint = Blueprint(__name__)


@blueprint.lambda_function(name="authorizer")
def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REQUEST authorizer for ``$connect``: 401 without a token, 403 for a bad one."""
    return authorize(event, default_ring())
