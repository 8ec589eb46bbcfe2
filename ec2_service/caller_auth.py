"""Only API Gateway may call the service: every integration request carries a shared secret.

The port is reachable from anywhere in the VPC, and the body says which connection acts and who
it is, so without this check any host in the VPC could move, speak for or delete any client.
API Gateway adds the secret as a header through the integration's request parameters, from a
stage variable whose value is a Secrets Manager dynamic reference (``infra.integration_secret``).

Rotation has no gap: the service accepts the secret's current *and* previous versions
(``AWSCURRENT`` and ``AWSPREVIOUS``) and re-reads both every ``refresh_s``, so a rotated secret
is accepted before the stage is redeployed with it, and the old one until the stage has it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("wsgate.service")

Fetch = Callable[[], Awaitable[tuple[str, ...]]]
"""Returns the accepted values, newest first."""


class SecretUnavailableError(RuntimeError):
    """The caller secret could not be read: the service must not start without it."""


def static_secret(value: str) -> Fetch:
    """A secret given in the configuration itself (tests, or a stack without Secrets Manager)."""

    async def fetch() -> tuple[str, ...]:
        return (value,)

    return fetch


def secrets_manager_secret(secret_id: str, region: str) -> Fetch:
    """The ``AWSCURRENT`` and (when it exists) ``AWSPREVIOUS`` values of a Secrets Manager
    secret. The endpoint follows botocore's usual configuration, so a local stack points it at
    moto with ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` and takes the production path."""

    async def fetch() -> tuple[str, ...]:
        values: list[str] = []
        async with get_session().create_client("secretsmanager", region_name=region) as client:
            for stage in ("AWSCURRENT", "AWSPREVIOUS"):
                try:
                    response = await client.get_secret_value(SecretId=secret_id, VersionStage=stage)
                except ClientError as error:
                    if stage == "AWSPREVIOUS" and error.response["Error"]["Code"] in (
                        "ResourceNotFoundException",
                        "InvalidRequestException",
                    ):
                        break  # never rotated: there is no previous version
                    raise
                values.append(response["SecretString"])
        return tuple(values)

    return fetch


class CallerSecret:
    """The accepted secret values, refreshed in the background."""

    def __init__(self, fetch: Fetch, refresh_s: float) -> None:
        self._fetch = fetch
        self._refresh_s = refresh_s
        self._accepted: tuple[bytes, ...] = ()

    async def load(self) -> None:
        """Read the secret now; raise :class:`SecretUnavailableError` if it cannot be."""
        try:
            values = await self._fetch()
        except (ClientError, BotoCoreError) as error:
            raise SecretUnavailableError(f"cannot read the integration secret: {error}") from None
        if not values or not all(values):
            raise SecretUnavailableError("the integration secret is empty")
        self._accepted = tuple(v.encode() for v in values)

    async def keep_fresh(self) -> None:
        """Re-read the secret forever; on failure keep the values we have and say so."""
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.load()
            except SecretUnavailableError as error:
                log.warning('{"event":"integration-secret-refresh-failed","error":%r}', str(error))

    def accepts(self, presented: str | None) -> bool:
        """Constant-time comparison with every accepted value (no early exit on a match)."""
        if not presented or not self._accepted:
            return False
        candidate = presented.encode(errors="surrogateescape")
        matches = [hmac.compare_digest(candidate, value) for value in self._accepted]
        return any(matches)
