"""Connection and request ids that look like API Gateway's (16 base64 characters, ``=``-ended).

The alphabet is URL-safe base64 (``-`` and ``_``, never ``+`` or ``/``), as real ids show
(``ZDb-VclrIAMCJ3w=`` in aws/aws-sdk-java#1987): an id goes into ``@connections/{id}`` paths.
"""

from __future__ import annotations

import base64
import secrets


def aws_id() -> str:
    """11 random bytes in URL-safe base64 (15 characters + ``=``), e.g. ``ZDb-VclrIAMCJ3w=``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


def api_id(seed: str) -> str:
    """A 10-character lower-case API id, stable for a given template."""
    import hashlib

    return hashlib.sha256(seed.encode()).hexdigest()[:10]
