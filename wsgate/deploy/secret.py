"""The token secret the authorizer verifies with: created once, never overwritten (replacing
it would sign every user out), removed only by ``wsgate destroy``."""

from __future__ import annotations

import secrets
from typing import Any

from botocore.exceptions import ClientError

SECRET_BYTES = 48


def ensure_token_secret(ssm: Any, name: str) -> bool:
    """Create the SecureString ``name`` with a fresh random value if it does not exist.
    True when this call created it."""
    try:
        ssm.put_parameter(
            Name=name,
            Value=secrets.token_urlsafe(SECRET_BYTES),
            Type="SecureString",
            Overwrite=False,
            Description="wsgate: token signing secret ($connect authorizer)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterAlreadyExists":
            return False
        raise
    return True


def delete_token_secret(ssm: Any, name: str) -> bool:
    """False when there was nothing to delete."""
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return False
        raise
    return True
