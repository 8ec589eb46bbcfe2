"""CloudWatch-like logs: the execution log (per request) and the stage's access log."""

from __future__ import annotations

import logging
from typing import Any

from wsgate.gateway.template_loader import Stage
from wsgate.gateway.vtl import render

LEVELS = {"OFF": logging.CRITICAL + 10, "ERROR": logging.ERROR, "INFO": logging.INFO}


class ExecutionLog:
    """``(requestId) ...`` lines at the stage's logging level (ERROR unless overridden)."""

    def __init__(self, stage: Stage, override: str | None = None) -> None:
        self.execution = logging.getLogger("wsgate.gateway.execution")
        self.execution.setLevel(
            LEVELS.get((override or stage.logging_level).upper(), logging.ERROR)
        )
        self.access_log = logging.getLogger("wsgate.gateway.access")
        # ``--log-level OFF`` silences both logs (benchmarks); otherwise the access log follows
        # the stage's AccessLogSettings, independent of the execution log level, as in AWS.
        off = (override or "").upper() == "OFF"
        self.access_format = None if off else stage.access_log_format
        self.stage_variables = stage.variables

    def endpoint_request(self, request_id: str, connection_id: str, route: str, body: str) -> None:
        if self.execution.isEnabledFor(logging.INFO):
            self.execution.info(
                "(%s) route %s, connection %s: Endpoint request body after transformations: %s",
                request_id,
                route,
                connection_id,
                body,
            )

    def error(self, request_id: str, connection_id: str, route: str, text: str) -> None:
        self.execution.error(
            "(%s) route %s, connection %s: %s", request_id, route, connection_id, text
        )

    def access(self, context: dict[str, Any]) -> None:
        if self.access_format and self.access_log.isEnabledFor(logging.INFO):
            self.access_log.info(
                render(self.access_format, context=context, stage_variables=self.stage_variables)
            )
