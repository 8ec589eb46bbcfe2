"""The token secret from SSM Parameter Store, fetched once per container and cached with a TTL.

Our own twelve lines rather than aws-lambda-powertools' parameters utility: that library would
add megabytes to a deployment package whose only SSM need is this one cached read. boto3 honours
``AWS_ENDPOINT_URL_SSM``, so the local stack points this at moto's server unchanged.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import boto3

SECRET_PARAMETER_ENV = "WSGATE_TOKEN_SECRET_PARAM"
DEFAULT_SECRET_PARAMETER = "/wsgate/token-secret"
CACHE_TTL_S = 300.0

_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}
_client: Any = None


def secret_parameter_name() -> str:
    return os.environ.get(SECRET_PARAMETER_ENV, DEFAULT_SECRET_PARAMETER)


def get_secret(name: str | None = None, *, max_age_s: float = CACHE_TTL_S) -> str:
    """The decrypted SecureString ``name``; re-read after ``max_age_s`` so rotation lands."""
    global _client
    name = name or secret_parameter_name()
    with _lock:
        cached = _cache.get(name)
        if cached is not None and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        if _client is None:
            _client = boto3.client("ssm")
        value = str(_client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        _cache[name] = (time.monotonic(), value)
        return value


def clear_cache() -> None:
    """Forget cached secrets and the client (tests; a new endpoint)."""
    global _client
    with _lock:
        _cache.clear()
        _client = None
