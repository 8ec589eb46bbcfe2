"""``wsgate local``: start DynamoDB, the service and the gateway together, and stop them together.

The order matters and follows the data: moto (DynamoDB + SSM) first, because the table and the
token secret must exist before anything reads them; then the template (``wsgate synth`` with the
development API key as a parameter), the Sanic service, the local gateway that loads the template
and calls the service, and last the web console that hands tokens to browsers. Every fact a
script or test needs is written to ``.wsgate/local.json`` once everything answers.

While it runs, a :class:`~wsgate.local.watchdog.Watchdog` restarts a crashed service or moto;
after moto comes back the table and SSM parameters are created again (with ``--persist`` moto
replays its recorded writes first, so the records survive too), and ``local.json`` is rewritten
with the new pids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from infra.integration_secret import VALUE_PARAMETER
from shared import names
from wsgate.local.aws_resources import (
    LOCAL_CREDENTIALS,
    AwsTarget,
    ensure_connections_table,
    put_parameters,
)
from wsgate.local.dev_panel import panel_for
from wsgate.local.event_terminal import EventOutput, clear_events, show_events
from wsgate.local.lambda_env import lambda_environment
from wsgate.local.moto_process import RECORDING_FILE
from wsgate.local.processes import (
    Child,
    StartupError,
    Supervisor,
    ensure_port_free,
    free_port,
    python_module,
)
from wsgate.local.reload_service import listening_socket
from wsgate.local.reload_synth import write_template
from wsgate.local.reload_watch import start_reloading, stop_reloading
from wsgate.local.restart_policy import RestartPolicy
from wsgate.local.stack_facts import TemplateFacts, read_template_facts
from wsgate.local.state import DEFAULT_NAME, EVENTS_FILE, ensure_unused
from wsgate.local.tokens import KeyIssuer, TokenMinter, local_user_keys
from wsgate.local.watchdog import Watchdog
from wsgate.local.web_console import create_web_console

if TYPE_CHECKING:
    pass

RESTARTABLE = frozenset({"moto", "service"})
"""Children restarted when they die. Not the gateway: its connections would be gone anyway."""

REAL_AWS = "aws"
"""``--dynamodb-endpoint aws``: use the account your AWS credentials point at."""

STACK_NAME = DEFAULT_NAME
LOCAL_AUTHORIZER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-local-authorizer"
"""The template's $connect authorizer; the gateway runs the Chalice function in-process."""
"""The ``AWS::StackName`` the local gateway resolves; the table name derives from it."""


@dataclass(frozen=True)
class LocalOptions:
    """Everything ``wsgate local`` can be told; the defaults are the documented ports."""

    gateway_port: int = 3001
    service_port: int = 8080
    moto_port: int = 8000
    console_port: int = 3000
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


class LocalStack:
    """The process tree of ``wsgate local``; use as a context manager so it always stops."""

    def __init__(self, options: LocalOptions, echo: Callable[[str], None] = print) -> None:
        self.options = options
        self.echo = echo
        self.state_dir = options.state_dir.resolve()
        self.supervisor = Supervisor(self.state_dir / "logs")
        self.info: LocalStackInfo | None = None
        self._minter: TokenMinter | None = None
        self._provision: Callable[[], None] | None = None
        self._service_socket: socket.socket | None = None

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _ports(self) -> dict[str, int]:
        """Resolve ``0`` to free ports, then check every wanted port before starting anything."""
        options = self.options
        wanted = {
            "gateway": (options.gateway_port, "--gateway-port"),
            "service": (options.service_port, "--service-port"),
            "console": (options.console_port, "--console-port"),
        }
        if options.dynamodb_endpoint is None or options.dynamodb_endpoint != REAL_AWS:
            wanted["moto"] = (options.moto_port, "--moto-port")
        ports: dict[str, int] = {}
        for name, (port, flag) in wanted.items():
            if port == 0:
                # Each probe's socket is closed before the next one, so the kernel may hand
                # the same free port out twice: pick again until it is one nobody here took.
                port = free_port()
                while port in ports.values():
                    port = free_port()
            else:
                ensure_port_free(port, name, flag)
            ports[name] = port
        return ports

    def start(self) -> LocalStackInfo:
        """Bring the whole stack up, or raise with a message naming what failed."""
        options = self.options
        ensure_unused(self.state_dir)
        ports = self._ports()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "local.json").unlink(missing_ok=True)
        clear_events(self.state_dir / EVENTS_FILE)

        moto_url = f"http://127.0.0.1:{ports['moto']}"
        moto_argv = python_module("wsgate.local.moto_process", "--port", str(ports["moto"]))
        if options.persist:
            moto_argv += ["--record", str(self.state_dir / RECORDING_FILE)]
        moto = self.supervisor.start("moto", moto_argv, {}, ready_url=f"{moto_url}/moto-api/")
        # Replaying a long recording takes a while (about 80 writes/s): allow for it, at the
        # first start and at every restart.
        moto.ready_timeout_s = 600.0 if options.persist else 60.0
        self.supervisor.wait_ready(moto, timeout_s=moto.ready_timeout_s)

        api_key = options.api_key or secrets.token_urlsafe(30)
        token_secret = options.token_secret or secrets.token_urlsafe(48)
        # The caller secret the gateway sends the service: letters and digits, as generated
        # by Secrets Manager for a deployed stack; the service reads it from moto's copy.
        integration_secret = secrets.token_hex(24)
        template_path = self._synthesize()
        parameters = {
            "DevApiKeyValue": api_key,
            VALUE_PARAMETER: integration_secret,
            **dict(options.parameters),
        }
        facts = read_template_facts(template_path, parameters, STACK_NAME)

        dynamodb = self._dynamodb_target(moto_url)
        ssm = AwsTarget(moto_url, options.region)
        ssm_parameters = self._parameters(facts, token_secret, ports)
        plan_parameter = names.StackNames(STACK_NAME, facts.stage).usage_plan_id_parameter
        issuer: list[KeyIssuer] = []

        def provision() -> None:
            # What the store holds: created at start, and again after a store restart.
            ensure_connections_table(dynamodb, facts.table_name)
            issue_key, plan_id = local_user_keys(
                template_path, parameters, STACK_NAME, ssm.client("apigateway")
            )
            issuer[:] = [issue_key]
            put_parameters(ssm, ssm_parameters | {plan_parameter: plan_id}, secure={_SECRET_PARAM})
            _put_secret(ssm, INTEGRATION_SECRET_NAME, parameters[VALUE_PARAMETER])

        self._provision = provision
        provision()
        # One API key per user (issued on their first token) unless clients send the shared
        # development key themselves (--api-key-source header, the tutorial's x-api-key).
        per_user = options.api_key_source == "authorizer"
        self._minter = TokenMinter(
            token_secret,
            api_key,
            options.token_ttl_s,
            (lambda user: issuer[0](user)) if per_user else None,
        )

        gateway_base = f"http://127.0.0.1:{ports['gateway']}"
        connections_url = f"{gateway_base}/{facts.stage}"
        service_url = f"http://127.0.0.1:{ports['service']}"
        self._start_service(ports["service"], dynamodb, facts, connections_url, moto_url)
        self._start_gateway(
            ports["gateway"],
            service_url,
            template_path,
            parameters,
            moto_url,
            signed_pushes=dynamodb.endpoint is not None,
            dynamodb_url=dynamodb.endpoint,
        )

        self.info = LocalStackInfo(
            websocket_url=f"ws://127.0.0.1:{ports['gateway']}/{facts.stage}",
            connections_url=connections_url,
            console_url=f"http://127.0.0.1:{ports['console']}/",
            service_url=service_url,
            dynamodb_endpoint=dynamodb.endpoint,
            ssm_endpoint=moto_url,
            region=options.region,
            table_name=facts.table_name,
            stage=facts.stage,
            api_key=api_key,
            token_secret_parameter=_SECRET_PARAM,
            api_id=facts.api_id,
            integration_secret_name=INTEGRATION_SECRET_NAME,
            tokens={user: self._minter.mint(user) for user in options.users},
            template=str(template_path),
            logs=str(self.supervisor.log_dir),
            pids={child.name: child.process.pid for child in self.supervisor.children},
        )
        return self.info

    def _dynamodb_target(self, moto_url: str) -> AwsTarget:
        endpoint = self.options.dynamodb_endpoint
        if endpoint == REAL_AWS:
            return AwsTarget(None, self.options.region)
        return AwsTarget(endpoint or moto_url, self.options.region)

    def _synthesize(self) -> Path:
        """What ``wsgate synth`` writes for the default settings, with the key source chosen."""
        template_path = self.state_dir / "template.json"
        write_template(template_path, self.options.api_key_source, LOCAL_AUTHORIZER_ARN)
        return template_path

    def _parameters(
        self, facts: TemplateFacts, token_secret: str, ports: dict[str, int]
    ) -> dict[str, str]:
        stack = names.StackNames(STACK_NAME, facts.stage)
        return {
            _SECRET_PARAM: token_secret,
            stack.table_name_parameter: facts.table_name,
            stack.connections_endpoint_parameter: f"http://127.0.0.1:{ports['gateway']}/{stack.stage}",
        }

    def _aws_env(self, target: AwsTarget) -> dict[str, str]:
        env = {"AWS_DEFAULT_REGION": self.options.region, "AWS_REGION": self.options.region}
        if target.endpoint is not None:
            env |= LOCAL_CREDENTIALS
        return env

    def _start_service(
        self,
        port: int,
        dynamodb: AwsTarget,
        facts: TemplateFacts,
        connections_url: str,
        secrets_url: str,
    ) -> None:
        env = self._aws_env(dynamodb) | {
            names.ENV_API_ID: facts.api_id,
            names.ENV_STAGE: facts.stage,
            names.ENV_TABLE_NAME: facts.table_name,
            names.ENV_REGION: self.options.region,
            names.ENV_CONNECTIONS_ENDPOINT: connections_url,
            names.ENV_INTEGRATION_SECRET_ID: INTEGRATION_SECRET_NAME,
            names.ENV_SECRETS_MANAGER_ENDPOINT: secrets_url,
            names.ENV_LOG_LEVEL: self.options.log_level,
            names.ENV_FANOUT_CONCURRENCY: str(self.options.fanout_concurrency),
        }
        if dynamodb.endpoint is not None:
            env[names.ENV_DYNAMODB_ENDPOINT] = dynamodb.endpoint
        argv = python_module(
            "ec2_service",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(self.options.service_workers),
        )
        pass_fds: tuple[int, ...] = ()
        if self.options.reload:
            # The stack keeps the port bound, so a reload can hand it to a new process.
            self._service_socket = listening_socket(port)
            pass_fds = (self._service_socket.fileno(),)
            argv += ["--fd", str(pass_fds[0])]
        child = self.supervisor.start("service", argv, env, pass_fds=pass_fds)
        self.supervisor.wait_ready(child, f"http://127.0.0.1:{port}/health")

    def _start_gateway(
        self,
        port: int,
        service_url: str,
        template: Path,
        parameters: dict[str, str],
        ssm_url: str,
        signed_pushes: bool = True,
        dynamodb_url: str | None = None,
    ) -> None:
        # The authorizer runs inside the gateway process and reads the token secret from SSM:
        # boto3 honours AWS_ENDPOINT_URL_SSM, so it reaches moto exactly as it would reach AWS.
        # Lambda routes run in worker processes that inherit this environment: they find
        # the table through the stack's SSM parameter and reach moto like the authorizer.
        env = lambda_environment(
            region=self.options.region,
            moto_url=ssm_url,
            dynamodb_url=dynamodb_url,
            stack_name=STACK_NAME,
            token_secret_parameter=_SECRET_PARAM,
        )
        argv = python_module(
            "wsgate.cli",
            "gateway",
            "--template",
            str(template),
            "--backend",
            service_url,
            "--port",
            str(port),
            "--log-level",
            self.options.gateway_log_level,
            "--admin",
            "--events-file",
            str(self.state_dir / EVENTS_FILE),
        )
        for key, value in parameters.items():
            argv += ["--param", f"{key}={value}"]
        if not signed_pushes:
            # Against real AWS the service signs its pushes with your AWS credentials, which
            # the local gateway cannot know: it accepts them unchecked (said at startup).
            argv.append("--connections-unsigned")
        child = self.supervisor.start("gateway", argv, env)
        self.supervisor.wait_ready(child, f"http://127.0.0.1:{port}/")

    def write_state(self) -> Path:
        """Write ``local.json`` last, atomically: its presence means the stack is ready."""
        assert self.info is not None
        path = self.state_dir / "local.json"
        partial = path.with_suffix(".json.tmp")
        partial.write_text(json.dumps(self.info.to_json(), indent=2) + "\n")
        partial.replace(path)
        return path

    async def _after_restart(self, child: Child) -> None:
        """Recreate what a fresh moto lacks, then publish the new pids in ``local.json``."""
        if child.name == "moto" and self._provision is not None:
            try:
                await asyncio.to_thread(self._provision)
            except (BotoCoreError, ClientError) as error:
                raise StartupError(f"could not recreate the table or parameters: {error}") from None
        if self.info is not None:
            self.info.pids = {c.name: c.process.pid for c in self.supervisor.children}
            self.write_state()

    async def serve(self, console_port: int | None = None) -> None:
        """Serve the web console until SIGINT/SIGTERM, restarting children that crash.

        Returns on a signal; raises :class:`StartupError` when a child that is not restarted
        (the gateway) dies or a restarted one crash-loops.
        """
        assert self.info is not None and self._minter is not None
        minter = self._minter
        port = console_port or int(self.info.console_url.rsplit(":", 1)[1].strip("/"))
        app = create_web_console(self.info.websocket_url, minter.mint, panel_for(self.info))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        reloading = await start_reloading(self) if self.options.reload else None
        self.write_state()
        watchdog = Watchdog(
            self.supervisor,
            self.echo,
            restartable=RESTARTABLE,
            policy=self.options.restart_policy,
            after_restart=self._after_restart,
        )
        watching = asyncio.create_task(watchdog.run())
        stopping = asyncio.create_task(stop.wait())
        printing = asyncio.create_task(
            show_events(self.state_dir / EVENTS_FILE, self.options.events, self.echo)
        )
        try:
            await asyncio.wait({watching, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if watching.done():
                watching.result()  # raises the reason the stack has to stop
        finally:
            for task in (watching, stopping, printing):
                task.cancel()
            await asyncio.gather(watching, stopping, printing, return_exceptions=True)
            await stop_reloading(reloading)
            await runner.cleanup()

    def stop(self) -> None:
        started = time.monotonic()
        self.supervisor.stop()
        if self._service_socket is not None:
            self._service_socket.close()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "local.json").unlink()
        if self.info is not None:
            self.echo(f"stopped in {time.monotonic() - started:.1f}s")


_SECRET_PARAM = "/wsgate/token-secret"
INTEGRATION_SECRET_NAME = names.StackNames(STACK_NAME).integration_secret


def _put_secret(target: AwsTarget, name: str, value: str) -> None:
    """Create or overwrite the secret in moto's Secrets Manager, as the stack creates it."""
    client = target.client("secretsmanager")
    try:
        client.create_secret(Name=name, SecretString=value)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value)
