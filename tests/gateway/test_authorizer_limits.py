"""The Lambda authorizer result quota: 8 KB, not adjustable.

"API Gateway quotas for WebSocket APIs":
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
The handshake status past the quota is not documented; the gateway answers 500 as for any
invalid authorizer response (UNCONFIRMED, see docs/local-gateway.md).
"""

from __future__ import annotations

from typing import Any

import websockets
from websockets.asyncio.client import connect

from tests.gateway.conftest import ARN, Backend
from tests.gateway.templates import KEY, http_api
from wsgate.gateway.authorizer import RESULT_LIMIT_BYTES, interpret, result_size
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.running import start_gateway

KEYED = {"x-api-key": KEY}


def _allow(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
        },
        "context": context,
    }


def _padded(total: int) -> dict[str, Any]:
    """An Allow result (with the usage key the template's plan needs) of ``total`` bytes."""
    result = _allow({"pad": ""})
    result["usageIdentifierKey"] = KEY
    result["context"]["pad"] = "x" * (total - result_size(result))
    assert result_size(result) == total
    return result


def test_the_quota_is_on_the_whole_result() -> None:
    assert interpret(_padded(RESULT_LIMIT_BYTES)).status is None
    assert interpret(_padded(RESULT_LIMIT_BYTES + 1)).status == 500


async def test_an_oversized_result_refuses_the_handshake(backend: Backend) -> None:
    sizes = iter([RESULT_LIMIT_BYTES + 1, RESULT_LIMIT_BYTES])

    def authorize(event: dict[str, Any], context: Any) -> Any:
        return _padded(next(sizes))

    config = GatewayConfig(
        template=http_api(), backend=backend.url, port=0, authorizers={ARN: authorize}
    )
    running = await start_gateway(config)
    try:
        try:
            async with connect(running.url, additional_headers=KEYED):
                status = 101
        except websockets.InvalidStatus as rejected:
            status = rejected.response.status_code
        assert status == 500
        async with connect(running.url, additional_headers=KEYED):
            pass  # exactly 8 KB is within the quota
    finally:
        await running.close()
