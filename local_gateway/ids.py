"""Connection and request ids that look like API Gateway's (16 base64 characters, ``=``-ended)."""

from __future__ import annotations

import base64
import secrets


def aws_id() -> str:
    """11 random bytes in base64 (15 characters + ``=``), e.g. ``L0SM9cOFvHcCIhw=``."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def api_id(seed: str) -> str:
    """A 10-character lower-case API id, stable for a given template."""
    import hashlib

    return hashlib.sha256(seed.encode()).hexdigest()[:10]
