"""Connection and request ids that look like API Gateway's (16 base64 characters, ``=``-ended).

The alphabet is URL-safe base64 (``-`` and ``_``, never ``+`` or ``/``), as real ids show
(``ZDb-VclrIAMCJ3w=`` in aws/aws-sdk-java#1987): an id goes into ``@connections/{id}`` paths.
"""

from __future__ import annotations

import base64
import os
import random
import secrets

_ID_BYTES = 11

_request_ids = random.Random(secrets.randbits(128))
"""Request and message ids only label a request in logs and templates; two per message came
from the OS's random source (a system call each), a measurable share of the gateway's CPU per
message. A seeded Mersenne Twister gives the same shape at a fraction of the cost; a forked
child reseeds it, so two processes never repeat each other's ids."""
os.register_at_fork(after_in_child=lambda: _request_ids.seed(secrets.randbits(128)))


def aws_id() -> str:
    """11 random bytes in URL-safe base64 (15 characters + ``=``), e.g. ``ZDb-VclrIAMCJ3w=``.

    From the OS's random source: a connection id is what a caller of ``@connections`` names,
    so it must not be guessable from other ids."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_ID_BYTES)).decode()


def request_id() -> str:
    """An id of the same shape as :func:`aws_id` for a request or a message, cheaply."""
    return base64.urlsafe_b64encode(_request_ids.randbytes(_ID_BYTES)).decode()


def api_id(seed: str) -> str:
    """A 10-character lower-case API id, stable for a given template."""
    import hashlib

    return hashlib.sha256(seed.encode()).hexdigest()[:10]
