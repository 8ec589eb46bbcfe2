"""API keys and the usage plan through ``wsgate local``, for both key sources.

The default stack takes the key from the authorizer (``usageIdentifierKey``, from the token's
``apiKey`` claim) so browsers work; ``--api-key-source header`` is the tutorial's ``x-api-key``.
"""

from __future__ import annotations

import asyncio

import websockets
from websockets.asyncio.client import connect

from chalice_app.chalicelib.tokens import mint_token
from tests.local.conftest import RunningStack


def _token_without_api_key(stack: RunningStack, user: str) -> str:
    """A valid token for ``user`` that carries no ``apiKey`` claim, signed with the stack's
    secret, which we read from SSM as the authorizer does."""
    ssm = stack.aws_client("ssm", "ssmEndpoint")
    secret = ssm.get_parameter(Name=stack.facts["tokenSecretParameter"], WithDecryption=True)
    return mint_token(secret["Parameter"]["Value"], user, ttl_s=300)


async def _status(url: str, headers: dict[str, str]) -> int:
    try:
        async with connect(url, additional_headers=headers, open_timeout=10):
            return 101
    except websockets.InvalidStatus as rejected:
        return rejected.response.status_code


async def test_authorizer_source_needs_the_key_claim(chat_stack: RunningStack) -> None:
    url = chat_stack.facts["websocketUrl"]
    bare = _token_without_api_key(chat_stack, "dave")
    assert await _status(url, {"Authorization": f"Bearer {bare}"}) == 403
    # With the authorizer as the key source, an x-api-key header does not stand in for it.
    headers = {"Authorization": f"Bearer {bare}", "x-api-key": chat_stack.facts["apiKey"]}
    assert await _status(url, headers) == 403
    assert await _status(url, {"Authorization": f"Bearer {chat_stack.token('alice')}"}) == 101


async def test_header_source_checks_x_api_key(header_stack: RunningStack) -> None:
    url = header_stack.facts["websocketUrl"]
    bare = _token_without_api_key(header_stack, "dave")
    auth = {"Authorization": f"Bearer {bare}"}
    assert await _status(url, auth) == 403
    assert await _status(url, auth | {"x-api-key": "not-a-key"}) == 403
    assert await _status(url, auth | {"x-api-key": header_stack.facts["apiKey"]}) == 101


async def test_burst_past_the_usage_plan_is_429(header_stack: RunningStack) -> None:
    url = header_stack.facts["websocketUrl"]
    headers = {
        "Authorization": f"Bearer {header_stack.token('alice')}",
        "x-api-key": header_stack.facts["apiKey"],
    }
    await asyncio.sleep(2.5)  # let earlier tests' connects refill the key's bucket
    statuses = await asyncio.gather(*(_status(url, headers) for _ in range(40)))
    assert 429 in statuses, statuses
    assert statuses.count(101) >= 10, statuses  # the tutorial's plan allows a burst of 10
    await asyncio.sleep(2.5)  # the bucket refills at 5 requests/s
    assert await _status(url, headers) == 101
