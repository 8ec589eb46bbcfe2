"""Lifting the open-file limit, for the processes that hold one socket per WebSocket connection.

Many systems start processes with a soft limit of 1,024 descriptors while the hard limit is far
higher; the gateway and the bench's load client each need one descriptor per connection, so
both raise the soft limit to the hard one before they open any.
"""

from __future__ import annotations

import resource


def raise_fd_limit() -> None:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit (never lowers it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
