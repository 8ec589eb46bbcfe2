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
from pathlib import Path

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from infra.integration_secret import VALUE_PARAMETER
from shared import names
from wsgate.local.aws_resources import (
    LOCAL_CREDENTIALS,
    AwsTarget,
)
from wsgate.local.dev_panel import panel_for
from wsgate.local.event_terminal import clear_events, show_events
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
from wsgate.local.stack_facts import TemplateFacts, read_template_facts
from wsgate.local.stack_options import (
    LOCAL_AUTHORIZER_ARN,
    STACK_NAME,
    LocalOptions,
    LocalStackInfo,
)
from wsgate.local.state import EVENTS_FILE, ensure_unused
from wsgate.local.store_setup import (
    INTEGRATION_SECRET_NAME,
    TOKEN_SECRET_PARAMETER,
    StoreSetup,
)
from wsgate.local.tokens import TokenMinter
from wsgate.local.watchdog import Watchdog
from wsgate.local.web_console import create_web_console

RESTARTABLE = frozenset({"moto", "service"})
"""Children restarted when they die. Not the gateway: its connections would be gone anyway."""

REAL_AWS = "aws"
"""``--dynamodb-endpoint aws``: use the account your AWS credentials point at."""


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
        ensure_unused(self.state_dir)
        ports = self._ports()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "local.json").unlink(missing_ok=True)
        clear_events(self.state_dir / EVENTS_FILE)
        moto_url = self._start_moto(ports["moto"])
        store = self._store(moto_url, ports["gateway"])
        self._provision = store.provision
        store.provision()
        # One API key per user (issued on their first token) unless clients send the shared
        # development key themselves (--api-key-source header, the tutorial's x-api-key).
        per_user = self.options.api_key_source == "authorizer"
        api_key = store.template_parameters["DevApiKeyValue"]
        self._minter = TokenMinter(
            store.token_secret,
            api_key,
            self.options.token_ttl_s,
            store.issue_key if per_user else None,
        )
        connections_url = f"http://127.0.0.1:{ports['gateway']}/{store.facts.stage}"
        service_url = f"http://127.0.0.1:{ports['service']}"
        self._start_service(
            ports["service"], store.dynamodb, store.facts, connections_url, moto_url
        )
        self._start_gateway(
            ports["gateway"],
            service_url,
            store.template,
            store.template_parameters,
            moto_url,
            signed_pushes=store.dynamodb.endpoint is not None,
            dynamodb_url=store.dynamodb.endpoint,
        )
        self.info = LocalStackInfo(
            websocket_url=f"ws://127.0.0.1:{ports['gateway']}/{store.facts.stage}",
            connections_url=connections_url,
            console_url=f"http://127.0.0.1:{ports['console']}/",
            service_url=service_url,
            dynamodb_endpoint=store.dynamodb.endpoint,
            ssm_endpoint=moto_url,
            region=self.options.region,
            table_name=store.facts.table_name,
            stage=store.facts.stage,
            api_key=api_key,
            token_secret_parameter=TOKEN_SECRET_PARAMETER,
            api_id=store.facts.api_id,
            integration_secret_name=INTEGRATION_SECRET_NAME,
            tokens={user: self._minter.mint(user) for user in self.options.users},
            template=str(store.template),
            logs=str(self.supervisor.log_dir),
            pids={child.name: child.process.pid for child in self.supervisor.children},
        )
        return self.info

    def _start_moto(self, port: int) -> str:
        """Start moto's server (replaying its recording with ``--persist``); its URL."""
        moto_url = f"http://127.0.0.1:{port}"
        moto_argv = python_module("wsgate.local.moto_process", "--port", str(port))
        if self.options.persist:
            moto_argv += ["--record", str(self.state_dir / RECORDING_FILE)]
        moto = self.supervisor.start("moto", moto_argv, {}, ready_url=f"{moto_url}/moto-api/")
        # Replaying a long recording takes a while (about 80 writes/s): allow for it, at the
        # first start and at every restart.
        moto.ready_timeout_s = 600.0 if self.options.persist else 60.0
        self.supervisor.wait_ready(moto, timeout_s=moto.ready_timeout_s)
        return moto_url

    def _store(self, moto_url: str, gateway_port: int) -> StoreSetup:
        """The secrets, the synthesized template and what the store must hold for them."""
        options = self.options
        # The caller secret the gateway sends the service: letters and digits, as generated
        # by Secrets Manager for a deployed stack; the service reads it from moto's copy.
        integration_secret = secrets.token_hex(24)
        template_path = self._synthesize()
        parameters = {
            "DevApiKeyValue": options.api_key or secrets.token_urlsafe(30),
            VALUE_PARAMETER: integration_secret,
            **dict(options.parameters),
        }
        return StoreSetup(
            dynamodb=self._dynamodb_target(moto_url),
            ssm=AwsTarget(moto_url, options.region),
            facts=read_template_facts(template_path, parameters, STACK_NAME),
            template=template_path,
            template_parameters=parameters,
            gateway_port=gateway_port,
            token_secret=options.token_secret or secrets.token_urlsafe(48),
            integration_secret=integration_secret,
        )

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
            token_secret_parameter=TOKEN_SECRET_PARAMETER,
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
