"""How to run one template locally: what ``wsgate gateway``'s flags and ``wsgate local`` set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.names import GATEWAY_PORT
from wsgate.gateway import limits
from wsgate.gateway.authorizer import AuthorizerFunction
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

DEFAULT_AUTHORIZER = "chalice_app.chalicelib.authorizer_handler:authorizer"


@dataclass
class GatewayConfig:
    """How to run one template locally."""

    template: Path | Mapping[str, Any]
    backend: str | None = None
    host: str = "127.0.0.1"
    port: int = GATEWAY_PORT
    parameters: dict[str, str] = field(default_factory=dict)
    authorizer: str = DEFAULT_AUTHORIZER
    """``module:attribute`` called for any authorizer whose ARN is not in ``authorizers``."""
    authorizers: dict[str, AuthorizerFunction] = field(default_factory=dict)
    frame_limit: int = limits.FRAME_LIMIT_BYTES
    """Checked per frame, in bytes."""
    message_limit: int = limits.MESSAGE_LIMIT_BYTES
    """Checked over all the frames of a message, in bytes."""
    message_concurrency: int = limits.MESSAGE_CONCURRENCY
    send_queue_bytes: int = limits.SEND_QUEUE_BYTES
    idle_timeout_s: float = 600.0
    max_duration_s: float = 7200.0
    log_level: str | None = None
    """Overrides the stage's ``LoggingLevel`` (OFF / ERROR / INFO)."""
    connections_credentials: dict[str, str] | None = field(
        default_factory=lambda: {
            LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]: LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        }
    )
    """Access key id -> secret key whose SigV4 signatures ``@connections`` accepts (the local
    stack's credentials by default); None accepts unsigned requests, for explicit opt-out."""
    admin: bool = False
    events_file: Path | None = None
    """Also append every event to this file as JSON lines (``wsgate local``'s state directory)."""
