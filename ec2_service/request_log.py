"""One JSON log line per request, the shape CloudWatch Logs Insights queries easily."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

log = logging.getLogger("wsgate.service")


def configure_logging(level: str) -> None:
    """Plain JSON lines on stdout (journald/CloudWatch agent pick them up as they are)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("wsgate.service", "wsgate.push"):  # the service's loggers, not the gateway's
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


def log_request(**fields: Any) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(json.dumps(fields, separators=(",", ":"), default=str))
