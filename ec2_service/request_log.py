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
    """The request's line, with the status actually sent: 5xx at ERROR, 4xx at WARNING."""
    status = fields.get("status") or 0
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, json.dumps(fields, separators=(",", ":"), default=str))


def log_event(event: str, **fields: Any) -> None:
    """A line about something other than a request's outcome (a refused caller...)."""
    log.warning(json.dumps({"event": event, **fields}, separators=(",", ":"), default=str))
