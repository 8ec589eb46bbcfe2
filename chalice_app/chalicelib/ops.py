"""The ops Lambda's actions. Push, prune and kick reuse the service's store and push client
from ``shared`` (one fan-out implementation, one 410 cleanup); keys and usage call the
API Gateway control plane with boto3."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import ValidationError

from shared import frames
from shared.connection_store import ConnectionStore
from shared.connections_api import ConnectionsApi
from shared.names import DEFAULT_STACK_NAME, DEFAULT_STAGE, ENV_STACK_NAME, ENV_STAGE, StackNames
from shared.ops_actions import OPS_ACTION, Broadcast, IssueApiKey, Kick, Prune, Usage

from . import api_keys
from .prune import PruneProgress, ResumeTokenError, prune_table

STAGE_ENV = ENV_STAGE
DEFAULT_RUN_BUDGET_S = 60.0
"""Time a prune may take when invoked without a Lambda context (a script, a test)."""
RESUME_START = "start"
"""The stored position meaning "from the beginning" (SSM refuses empty values)."""


class OpsError(Exception):
    """An ops request that cannot be carried out; the message says what to fix."""


@dataclass(frozen=True)
class OpsConfig:
    """Where the stack is, read from the SSM parameters the infra stack writes."""

    region: str
    table_name: str
    connections_endpoint: str
    usage_plan_id: str | None
    dynamodb_endpoint: str | None = None
    names: StackNames = field(default_factory=StackNames)

    @classmethod
    def from_ssm(cls, stage: str | None = None, stack: str | None = None) -> OpsConfig:
        names = StackNames(
            stack or os.environ.get(ENV_STACK_NAME, DEFAULT_STACK_NAME),
            stage or os.environ.get(STAGE_ENV, DEFAULT_STAGE),
        )
        ssm = boto3.client("ssm")
        wanted = {
            "table": names.table_name_parameter,
            "endpoint": names.connections_endpoint_parameter,
            "plan": names.usage_plan_id_parameter,
        }
        found = ssm.get_parameters(Names=list(wanted.values()))
        values = {p["Name"]: p["Value"] for p in found["Parameters"]}
        missing = [n for k, n in wanted.items() if k != "plan" and n not in values]
        if missing:
            raise OpsError(f"SSM parameters {missing} are missing: deploy the infra stack first")
        return cls(
            region=ssm.meta.region_name,
            table_name=values[wanted["table"]],
            connections_endpoint=values[wanted["endpoint"]],
            usage_plan_id=values.get(wanted["plan"]),
            dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
            names=names,
        )


def _store(config: OpsConfig) -> ConnectionStore:
    return ConnectionStore(
        config.table_name, region=config.region, endpoint_url=config.dynamodb_endpoint
    )


def _api(config: OpsConfig) -> ConnectionsApi:
    return ConnectionsApi(config.connections_endpoint, region=config.region)


async def broadcast(action: Broadcast, config: OpsConfig) -> dict[str, Any]:
    async with _store(config) as store, _api(config) as api:
        if action.room:
            ids = await store.room_members(action.room)
        else:
            ids = await store.all_connection_ids()
        data = frames.broadcast_frame(action.message, int(time.time() * 1000), action.room)
        result = await api.fan_out(ids, data, on_gone=store.delete_connection)
    return {"delivered": result.delivered, "gone": result.gone, "failed": result.failed}


def remaining_time(context: Any, budget_s: float = DEFAULT_RUN_BUDGET_S) -> Callable[[], float]:
    """Seconds left before the Lambda is stopped (or of ``budget_s`` without a context)."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: float(context.get_remaining_time_in_millis()) / 1000.0
    deadline = time.monotonic() + budget_s
    return lambda: deadline - time.monotonic()


def _stored_resume(config: OpsConfig) -> str | None:
    try:
        value = boto3.client("ssm").get_parameter(Name=config.names.prune_resume_parameter)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
    stored = str(value["Parameter"]["Value"])
    return None if stored == RESUME_START else stored


def _store_resume(config: OpsConfig, progress: PruneProgress) -> None:
    boto3.client("ssm").put_parameter(
        Name=config.names.prune_resume_parameter,
        Value=progress.resume or RESUME_START,
        Type="String",
        Overwrite=True,
    )


async def prune(action: Prune, config: OpsConfig, remaining: Callable[[], float]) -> dict[str, Any]:
    resume = _stored_resume(config) if action.persistResume else action.resume
    async with _store(config) as store, _api(config) as api:

        async def is_gone(connection_id: str) -> bool:
            return await api.get(connection_id) is None

        try:
            progress = await prune_table(
                store.client, config.table_name, is_gone, remaining, resume=resume
            )
        except ResumeTokenError as error:
            raise OpsError(str(error)) from None
    if action.persistResume:
        _store_resume(config, progress)
    return progress.as_dict()


async def kick(action: Kick, config: OpsConfig) -> dict[str, Any]:
    async with _store(config) as store, _api(config) as api:
        closed = await api.delete(action.connectionId)
        await store.delete_connection(action.connectionId)
    return {"connectionId": action.connectionId, "closed": closed}


def issue_api_key(action: IssueApiKey, config: OpsConfig) -> dict[str, Any]:
    if not config.usage_plan_id:
        raise OpsError("no usage plan id in SSM: this stage has no usage plan")
    if action.user is not None:
        name, customer = config.names.user_api_key_name(action.user), action.user
    else:
        name, customer = str(action.name), None
    issued = api_keys.issue_key(boto3.client("apigateway"), config.usage_plan_id, name, customer)
    return issued.as_dict()


def usage(action: Usage, config: OpsConfig) -> dict[str, Any]:
    if not config.usage_plan_id:
        raise OpsError("no usage plan id in SSM: this stage has no usage plan")
    apigateway = boto3.client("apigateway")
    request: dict[str, Any] = {
        "usagePlanId": config.usage_plan_id,
        "startDate": action.startDate.isoformat(),
        "endDate": action.endDate.isoformat(),
    }
    if action.keyId:
        request["keyId"] = action.keyId
    response = apigateway.get_usage(**request)
    return {k: response.get(k) for k in ("usagePlanId", "startDate", "endDate", "items")}


def run(
    event: dict[str, Any], config: OpsConfig | None = None, context: Any = None
) -> dict[str, Any]:
    """Validate and run one ops event; errors come back as ``{"error": ...}``, not tracebacks."""
    try:
        action = OPS_ACTION.validate_python(event)
    except ValidationError as error:
        details = [
            {"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        return {"error": "invalid ops request", "details": details}
    try:
        config = config or OpsConfig.from_ssm()
        if isinstance(action, Broadcast):
            return asyncio.run(broadcast(action, config))
        if isinstance(action, Prune):
            return asyncio.run(prune(action, config, remaining_time(context)))
        if isinstance(action, Kick):
            return asyncio.run(kick(action, config))
        if isinstance(action, IssueApiKey):
            return issue_api_key(action, config)
        return usage(action, config)
    except OpsError as error:
        return {"error": str(error)}
    except ClientError as error:
        info = error.response.get("Error", {})
        operation = error.operation_name
        return {
            "error": f"{operation} failed: {info.get('Code')} {info.get('Message', '')}".strip()
        }
