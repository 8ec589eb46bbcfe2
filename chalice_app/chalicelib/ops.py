"""The ops Lambda's actions. Push, prune and kick reuse the service's store and push client
from ``shared`` (one fan-out implementation, one 410 cleanup); keys and usage call the
API Gateway control plane with boto3."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import ValidationError

from shared import frames
from shared.connection_store import ConnectionStore
from shared.connections_api import ConnectionsApi
from shared.names import DEFAULT_STACK_NAME, ENV_STACK_NAME, StackNames
from shared.ops_actions import (
    OPS_ACTION,
    Broadcast,
    IssueApiKey,
    Kick,
    Prune,
    Usage,
)

STAGE_ENV = "WSGATE_STAGE"


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

    @classmethod
    def from_ssm(cls, stage: str | None = None) -> OpsConfig:
        stage = stage or os.environ.get(STAGE_ENV, "prod")
        ssm = boto3.client("ssm")
        stack = StackNames(os.environ.get(ENV_STACK_NAME, DEFAULT_STACK_NAME), stage)
        names = {
            "table": stack.table_name_parameter,
            "endpoint": stack.connections_endpoint_parameter,
            "plan": stack.usage_plan_id_parameter,
        }
        found = ssm.get_parameters(Names=list(names.values()))
        values = {p["Name"]: p["Value"] for p in found["Parameters"]}
        missing = [n for k, n in names.items() if k != "plan" and n not in values]
        if missing:
            raise OpsError(f"SSM parameters {missing} are missing: deploy the infra stack first")
        return cls(
            region=ssm.meta.region_name,
            table_name=values[names["table"]],
            connections_endpoint=values[names["endpoint"]],
            usage_plan_id=values.get(names["plan"]),
            dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
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


async def prune(action: Prune, config: OpsConfig) -> dict[str, Any]:
    async with _store(config) as store, _api(config) as api:
        expired = set(await store.stale_connection_ids())
        gone = set()
        for connection_id in await store.all_connection_ids():
            if connection_id not in expired and await api.get(connection_id) is None:
                gone.add(connection_id)
        for connection_id in sorted(expired | gone):
            await store.delete_connection(connection_id)
    return {"expired": sorted(expired), "gone": sorted(gone)}


async def kick(action: Kick, config: OpsConfig) -> dict[str, Any]:
    async with _store(config) as store, _api(config) as api:
        closed = await api.delete(action.connectionId)
        await store.delete_connection(action.connectionId)
    return {"connectionId": action.connectionId, "closed": closed}


def issue_api_key(action: IssueApiKey, config: OpsConfig) -> dict[str, Any]:
    if not config.usage_plan_id:
        raise OpsError("no usage plan id in SSM: this stage has no usage plan")
    apigateway = boto3.client("apigateway")
    key = apigateway.create_api_key(name=action.name, enabled=True)
    apigateway.create_usage_plan_key(
        usagePlanId=config.usage_plan_id, keyId=key["id"], keyType="API_KEY"
    )
    return {"id": key["id"], "name": key["name"], "value": key["value"]}


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


def run(event: dict[str, Any], config: OpsConfig | None = None) -> dict[str, Any]:
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
            return asyncio.run(prune(action, config))
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
