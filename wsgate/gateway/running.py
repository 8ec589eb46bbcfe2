"""A gateway bound to its port: started by :func:`start_gateway`, stopped by ``close()``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from wsgate.gateway import errors, lambda_runtime
from wsgate.gateway.config import GatewayConfig
from wsgate.gateway.event_file import EventFile
from wsgate.gateway.http_edge import HANDLER_OPTIONS, listen
from wsgate.gateway.server import Gateway


@dataclass
class RunningGateway:
    gateway: Gateway
    runner: web.AppRunner
    listener: asyncio.Server
    port: int
    sweeper: asyncio.Task[None]
    event_file: EventFile | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.gateway.api.stage.name}"

    @property
    def connections_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.gateway.api.stage.name}"

    async def close(self) -> None:
        self.sweeper.cancel()
        self.listener.close()
        for connection in list(self.gateway.registry.connections.values()):
            connection.close(errors.CLOSE_GOING_AWAY, "Gateway stopping")
        for pump in list(self.gateway.pumps):
            pump.cancel()
        await self.runner.cleanup()
        if self.gateway.session is not None:
            await self.gateway.session.close()
        await lambda_runtime.close()
        if self.event_file is not None:
            self.event_file.close()


async def start_gateway(config: GatewayConfig) -> RunningGateway:
    """Load the template, bind the port, and serve until ``close()``."""
    gateway = Gateway(config)
    runner = web.AppRunner(gateway.application(), handle_signals=False, **HANDLER_OPTIONS)
    await runner.setup()
    listener = await listen(runner, config.host, config.port)
    port = int(listener.sockets[0].getsockname()[1])
    sweeper = asyncio.create_task(gateway.sweep())
    lambda_runtime.runtime().gateway_url = f"http://127.0.0.1:{port}"
    event_file = None
    if config.events_file is not None:
        event_file = EventFile(config.events_file)
        gateway.events.add_sink(event_file)
    return RunningGateway(gateway, runner, listener, port, sweeper, event_file)
