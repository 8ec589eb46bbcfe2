"""What ``wsgate local`` is told (:class:`LocalOptions`) and what it tells (``local.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared.names import CONSOLE_PORT, GATEWAY_PORT, MOTO_PORT, SERVICE_PORT
from wsgate.local.event_terminal import EventOutput
from wsgate.local.restart_policy import RestartPolicy
from wsgate.local.state import DEFAULT_NAME

STACK_NAME = DEFAULT_NAME
"""The ``AWS::StackName`` the local gateway resolves; the table name derives from it."""
LOCAL_AUTHORIZER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-local-authorizer"
"""The template's $connect authorizer; the gateway runs the Chalice function in-process."""


@dataclass(frozen=True)
class LocalOptions:
    """Everything ``wsgate local`` can be told; the defaults are the documented ports."""

    gateway_port: int = GATEWAY_PORT
    service_port: int = SERVICE_PORT
    moto_port: int = MOTO_PORT
    console_port: int = CONSOLE_PORT
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    """None: moto's server; a URL: that endpoint (DynamoDB Local...); ``aws``: real AWS."""
    users: tuple[str, ...] = ("alice",)
    api_key: str | None = None
    token_secret: str | None = None
    token_ttl_s: int = 12 * 60 * 60
    api_key_source: str = "authorizer"
    parameters: tuple[tuple[str, str], ...] = ()
    """Template parameter overrides (``--param Key=Value``), e.g. usage-plan limits."""
    state_dir: Path = Path(".wsgate")
    service_workers: int = 1
    log_level: str = "INFO"
    gateway_log_level: str = "ERROR"
    fanout_concurrency: int = 64
    persist: bool = False
    """Record moto's writes under ``state_dir`` and replay them whenever moto starts."""
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    events: EventOutput = field(default_factory=EventOutput)
    """How the gateway's events are printed while the stack runs (``--quiet``...)."""
    reload: bool = False
    """Apply edits to the project while running, keeping WebSockets open (``reload_watch``)."""


@dataclass
class LocalStackInfo:
    """What is running where: the content of ``.wsgate/local.json``."""

    websocket_url: str
    connections_url: str
    console_url: str
    service_url: str
    dynamodb_endpoint: str | None
    ssm_endpoint: str
    region: str
    table_name: str
    stage: str
    api_key: str
    token_secret_parameter: str
    tokens: dict[str, str]
    template: str
    logs: str
    pids: dict[str, int] = field(default_factory=dict)
    api_id: str = ""
    integration_secret_name: str = ""
    """The Secrets Manager secret (in moto) the gateway's requests to the service carry."""

    def to_json(self) -> dict[str, object]:
        return {_camel(key): value for key, value in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
