"""The token secrets from SSM Parameter Store: the current version and the one before it.

Rotating the secret is ``put-parameter --overwrite``: SSM keeps every version. The authorizer
accepts tokens signed with the current *and* the previous version, so tokens minted just before
a rotation stay valid, and a token signed with a version newer than the cache triggers one
early refresh (at most one per :data:`REFRESH_INTERVAL_S`, so a flood of forged tokens cannot
turn into a flood of SSM calls). Two rotations retire a secret. The interval is counted from
the last *forced* refresh, not from the last read, so the first token signed with a new secret
refreshes at once unless another unknown signature forced a refresh just before.

Our own small cache rather than aws-lambda-powertools' parameters utility: that library would
add megabytes to a deployment package whose only SSM need is this read. boto3 honours
``AWS_ENDPOINT_URL_SSM``, so the local stack points this at moto's server unchanged.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from shared.names import ENV_TOKEN_SECRET_PARAM, StackNames

SECRET_PARAMETER_ENV = ENV_TOKEN_SECRET_PARAM
DEFAULT_SECRET_PARAMETER = StackNames().token_secret_parameter
CACHE_TTL_S = 300.0
"""A rotation reaches every container within this time even without a refresh on failure."""
REFRESH_INTERVAL_S = 10.0
"""Minimum time between two refreshes caused by an unknown signature."""

Clock = Callable[[], float]


def secret_parameter_name() -> str:
    return os.environ.get(SECRET_PARAMETER_ENV, DEFAULT_SECRET_PARAMETER)


class SecretRing:
    """The valid secrets of one SecureString parameter, newest first, cached per container."""

    def __init__(
        self,
        name: str | None = None,
        *,
        ttl_s: float = CACHE_TTL_S,
        refresh_interval_s: float = REFRESH_INTERVAL_S,
        clock: Clock = time.monotonic,
        client: Any = None,
    ) -> None:
        self._name = name
        self._ttl_s = ttl_s
        self._refresh_interval_s = refresh_interval_s
        self._clock = clock
        self._client = client
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._fetched_at: float | None = None
        self._last_forced: float | None = None
        self.fetches = 0
        """How many times SSM was read (observable, so tests can bound it)."""

    @property
    def name(self) -> str:
        return self._name or secret_parameter_name()

    def secrets(self) -> tuple[str, ...]:
        """The current secret and, when the parameter has one, the previous version."""
        with self._lock:
            fetched = self._fetched_at
            if fetched is None or self._clock() - fetched >= self._ttl_s:
                self._fetch()
            return self._secrets

    def refresh_after_mismatch(self) -> bool:
        """Re-read SSM because a token matched no cached secret; False if refreshed too recently.

        Returns True only when the re-read found a secret the cache did not have, so the caller
        retries verification only when that can change the answer.
        """
        with self._lock:
            now = self._clock()
            forced = self._last_forced
            if forced is not None and now - forced < self._refresh_interval_s:
                return False
            self._last_forced = now
            before = self._secrets
            self._fetch()
            return self._secrets != before

    def _fetch(self) -> None:
        # boto3/botocore on first use: keeps them out of the authorizer's cold-start import.
        import boto3
        from botocore.exceptions import ClientError

        if self._client is None:
            self._client = boto3.client("ssm")
        name = self.name
        current = self._client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        found = [str(current["Value"])]
        version = int(current["Version"])
        if version > 1:
            try:
                previous = self._client.get_parameter(
                    Name=f"{name}:{version - 1}", WithDecryption=True
                )["Parameter"]
                found.append(str(previous["Value"]))
            except ClientError as error:
                # ParameterVersionNotFound: versions beyond SSM's retained history of 100.
                if error.response.get("Error", {}).get("Code") != "ParameterVersionNotFound":
                    raise
        self._secrets = tuple(found)
        self._fetched_at = self._clock()
        self.fetches += 1


_default_ring = SecretRing()


def default_ring() -> SecretRing:
    """The container-wide ring the Lambda handler uses."""
    return _default_ring


def get_secret(name: str | None = None) -> str:
    """The current secret (what new tokens are signed with), e.g. for ``wsgate token``."""
    ring = _default_ring if name is None else SecretRing(name)
    return ring.secrets()[0]


def clear_cache() -> None:
    """Forget cached secrets and the client (tests; a new endpoint)."""
    global _default_ring
    _default_ring = SecretRing()
