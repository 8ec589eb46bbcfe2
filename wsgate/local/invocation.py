"""Run one of the Chalice app's functions with an event, as Lambda would, locally or in AWS.

Locally the function runs in this process with the environment the local gateway gives its
Lambda workers (:func:`wsgate.local.lambda_env.lambda_environment`, then the function's own
variables from ``.chalice/config.json`` via :func:`wsgate.gateway.lambda_runtime.
function_environment`), so it reads moto's SSM and DynamoDB and pushes through the local
gateway's ``@connections`` exactly as the deployed function reaches AWS. Remotely it is
``lambda:Invoke`` on the deployed function, whose name follows Chalice's rule
(:meth:`shared.names.StackNames.function`).

The event each kind of function receives is built here: the ops function takes the payload as
is, a scheduled function a CloudWatch scheduled event, a ``backend="lambda"`` route the proxy
event the gateway builds for a message. The authorizer is refused: it only makes sense on a
``$connect``.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.names import StackNames
from shared.ops_actions import OPS_ACTION
from shared.routes import Route, lambda_routes
from wsgate.gateway.admin import ADMIN_PREFIX

FunctionKind = Literal["payload", "scheduled", "route", "authorizer"]
OPS_FUNCTION = "ops"
AUTHORIZER_FUNCTION = "authorizer"
ADMIN_USAGE_PATH = f"{ADMIN_PREFIX}/usage"
"""The local gateway's usage counters (served with ``wsgate gateway --admin``, as locally)."""
INVOKE_CONNECTION_ID = "d2dzYXRlLWludm9rZQ="
"""The connection id a route function sees when invoked by hand (no socket is behind it)."""


class InvokeError(Exception):
    """A payload or function name that cannot be invoked; the message says what to pass."""


@dataclass(frozen=True)
class Target:
    """One invocable function: its Chalice name, the event it takes, and its route if any."""

    name: str
    kind: FunctionKind
    route: Route | None = None


def targets() -> dict[str, Target]:
    """Every function of the Chalice app, by name, with the kind of event it takes."""
    from chalice_app.app import app

    routes = {route.function_name: route for route in lambda_routes()}
    found: dict[str, Target] = {}
    for function in app.pure_lambda_functions:
        if function.name in routes:
            found[function.name] = Target(function.name, "route", routes[function.name])
        elif function.name == AUTHORIZER_FUNCTION:
            found[function.name] = Target(function.name, "authorizer")
        else:
            found[function.name] = Target(function.name, "payload")
    for source in app.event_sources:
        found[source.name] = Target(source.name, "scheduled")
    return found


def find_target(name: str) -> Target:
    known = targets()
    if name not in known:
        raise InvokeError(f"no function {name!r}: the Chalice app has {', '.join(sorted(known))}")
    target = known[name]
    if target.kind == "authorizer":
        raise InvokeError(
            "the authorizer runs on $connect only: connect with a token instead "
            "(wsgate token --user NAME, or wsgate connect --user NAME)"
        )
    return target


def parse_payload(text: str | None) -> Any:
    """The JSON payload; ``None`` (no argument) is an empty object."""
    if text is None:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvokeError(
            f"the payload is not JSON ({error.msg} at character {error.pos}): quote it for the "
            """shell, e.g. '{"action":"broadcast","message":"hi"}'"""
        ) from None


def validation_message(error: ValidationError) -> str:
    """Pydantic's errors as one line: each field path and what is wrong with it."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def check_payload(target: Target, payload: Any) -> None:
    """Refuse before running anything what the function would refuse."""
    adapter: TypeAdapter[Any] | None = None
    if target.name == OPS_FUNCTION:
        adapter = OPS_ACTION
    elif target.route is not None and target.route.client_model is not None:
        model: type[BaseModel] = target.route.client_model
        adapter = TypeAdapter(model)
    elif target.kind == "scheduled" and payload != {}:
        raise InvokeError(f"{target.name} runs on a schedule and takes no payload")
    if adapter is None:
        return
    try:
        adapter.validate_python(payload)
    except ValidationError as error:
        raise InvokeError(f"invalid {target.name} payload: {validation_message(error)}") from None


def scheduled_event(region: str, account: str, rule: str) -> dict[str, Any]:
    """The event EventBridge (CloudWatch Events) sends a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule}"],
        "detail": {},
    }


def route_event(route: Route, payload: Any, api_id: str, stage: str) -> dict[str, Any]:
    """The proxy event the gateway hands a route function for one message frame."""
    from wsgate.gateway.ids import aws_id
    from wsgate.gateway.lambda_event import proxy_event
    from wsgate.gateway.request_context import request_context

    now_ms = int(time.time() * 1000)
    context = request_context(
        api_id=api_id,
        stage=stage,
        connection_id=INVOKE_CONNECTION_ID,
        request_id=aws_id(),
        route_key=route.key,
        event_type="MESSAGE",
        connected_at=now_ms,
        source_ip="127.0.0.1",
        user_agent="wsgate invoke",
        authorizer={},
        api_key=None,
    )
    return proxy_event(context, json.dumps(payload), {}, {})


def build_event(target: Target, payload: Any, region: str, api_id: str, stage: str) -> Any:
    from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS

    if target.kind == "scheduled":
        return scheduled_event(region, PSEUDO_PARAMETERS["AWS::AccountId"], target.name)
    if target.route is not None:
        return route_event(target.route, payload, api_id, stage)
    return payload


def invoke_local(
    target: Target, event: Any, names: StackNames, region: str, env: Mapping[str, str]
) -> Any:
    """Run the function in this process with ``env`` added to the environment, as Lambda would."""
    from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
    from wsgate.gateway.lambda_functions import chalice_function
    from wsgate.gateway.lambda_runtime import FunctionSpec, function_environment
    from wsgate.gateway.lambda_worker import LambdaContext, load_handler

    os.environ.update(env)
    account = PSEUDO_PARAMETERS["AWS::AccountId"]
    arn = f"arn:aws:lambda:{region}:{account}:function:{names.function(target.name)}"
    if target.kind == "scheduled":
        spec = FunctionSpec(names.function(target.name), arn, _scheduled(target), code_dirs=())
    else:
        spec = chalice_function(arn)
    os.environ.update(function_environment(spec))
    context = LambdaContext(str(uuid.uuid4()), int((time.time() + spec.timeout_s) * 1000))
    return load_handler(spec.handler)(event, context)


def _scheduled(target: Target) -> str:
    from chalice_app.app import app

    (source,) = [s for s in app.event_sources if s.name == target.name]
    return f"chalice_app.{source.handler_string}"


def is_usage_request(target: Target, payload: Any) -> bool:
    """The ops ``usage`` action: GetUsage, which moto's ``apigateway`` does not implement."""
    return (
        target.name == OPS_FUNCTION
        and isinstance(payload, dict)
        and payload.get("action") == "usage"
    )


def gateway_usage(connections_url: str, timeout_s: float = 10.0) -> Any:
    """The local gateway's own usage counters (``GET /_wsgate/usage``): per usage plan and key,
    the quota used and left in the current period and the tokens left in the key's bucket.

    Locally these stand in for GetUsage, which moto lacks; they are what the gateway enforces.
    """
    base = connections_url.rsplit("/", 1)[0]
    try:
        with urllib.request.urlopen(f"{base}{ADMIN_USAGE_PATH}", timeout=timeout_s) as reply:
            return json.loads(reply.read())
    except (urllib.error.URLError, OSError) as error:
        raise InvokeError(
            f"the local gateway at {base} is not answering ({error}); is `wsgate local` running?"
        ) from None


def invoke_remote(client: Any, function_name: str, event: Any) -> Any:
    """``lambda:Invoke`` (RequestResponse) and the function's answer, or its error as a message."""
    response = client.invoke(
        FunctionName=function_name,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    answer = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = answer.get("errorMessage", answer) if isinstance(answer, dict) else answer
        raise InvokeError(f"{function_name} failed ({response['FunctionError']}): {message}")
    return answer
