"""``wsgate local --reload``: apply a change to the project while every WebSocket stays open.

The gateway owns the clients' sockets, so nothing a reload does closes one: a service change
starts a new service process on the same listening socket (``reload_service``); a change to
routes, models or the template re-synthesizes the template in a fresh process
(``reload_synth``) and asks the running gateway to re-read it (``POST /_wsgate/reload``); a
change to the Lambda code makes the gateway import it again. Which of these a change needs is
``reload_plan``'s pure decision. The template and the service are handled concurrently, so a
change to ``shared`` costs the slower of the two, not their sum.

Nothing here may stop the stack: any failure (a syntax error, a template that no longer
loads) is one terminal line, and the previous version keeps serving until the next change.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from wsgate.local.processes import python_module
from wsgate.local.reload_plan import ReloadPlan, describe
from wsgate.local.reload_service import (
    ServiceReplacer,
    ServiceSwapError,
    Standby,
    Swapped,
    error_summary,
)
from wsgate.local.reload_standby import SYNTH_MODULE
from wsgate.local.watchdog import PREFIX

OnSwapped = Callable[[Swapped], Awaitable[None]]
GATEWAY_RELOAD_TIMEOUT_S = 60.0
SYNTH_TIMEOUT_S = 60.0


class SynthesisError(RuntimeError):
    """The edited project does not synthesize; the previous template stays in place."""


class StepFailedError(RuntimeError):
    """One step of a reload failed; the message is the cause, in one line."""


@dataclass
class Synthesizer:
    """Writes ``template`` from the project as it is on disk, keeping a standby warm."""

    template: Path
    api_key_source: str
    authorizer_arn: str
    log_path: Path
    timeout_s: float = SYNTH_TIMEOUT_S
    _standby: Standby | None = field(default=None, init=False)

    def prepare(self) -> None:
        if self._standby is None or self._standby.process.poll() is not None:
            argv = python_module(
                SYNTH_MODULE,
                str(self.template),
                f"--api-key-source={self.api_key_source}",
                f"--authorizer-arn={self.authorizer_arn}",
            )
            self._standby = Standby.start(argv, {}, self.log_path)

    async def synthesize(self) -> None:
        """Write the template, or raise :class:`SynthesisError` with the cause in one line."""
        self.prepare()
        standby, self._standby = self._standby, None
        assert standby is not None
        try:
            await standby.go(self.timeout_s)
            code = await asyncio.to_thread(standby.process.wait, self.timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        except ServiceSwapError as error:  # the standby died before it could run
            raise SynthesisError(str(error)) from None
        finally:
            await standby.discard()
        if code != 0:
            output = standby.output()
            what = "timed out" if code is None else f"exit code {code}"
            raise SynthesisError(f"{error_summary(output)} ({what})")

    async def warm(self) -> None:
        self.prepare()
        assert self._standby is not None
        await self._standby.wait_warm(self.timeout_s)

    async def close(self) -> None:
        if self._standby is not None:
            await self._standby.discard()
            self._standby = None


@dataclass
class Reloader:
    """Applies :class:`ReloadPlan` s to the running stack, one at a time."""

    gateway_url: str
    """The gateway's base URL (``http://127.0.0.1:PORT``); its admin surface is on."""
    synthesizer: Synthesizer
    service: ServiceReplacer
    echo: Callable[[str], None]
    on_swapped: OnSwapped | None = None

    async def warm(self) -> None:
        """Have both standbys ready, so the first edit is as quick as the next ones."""
        await asyncio.gather(self.synthesizer.warm(), self.service.warm())

    async def close(self) -> None:
        await asyncio.gather(self.synthesizer.close(), self.service.close())

    async def apply(self, plan: ReloadPlan) -> bool:
        """Run the plan's steps; print one line saying what happened; True if all succeeded."""
        started = time.monotonic()
        steps: list[Awaitable[str]] = []
        if plan.reload_gateway:
            steps.append(self._gateway(plan))
        if plan.restart_service:
            steps.append(self._service())
        outcomes = await asyncio.gather(*steps, return_exceptions=True)
        # The next standbys only now: warming up would compete with this reload for the CPU.
        self.synthesizer.prepare()
        self.service.prepare()
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        for outcome in failed:
            if not isinstance(outcome, StepFailedError):
                raise outcome
        done = "; ".join(str(o) for o in outcomes)
        if failed:
            self.echo(
                f"{PREFIX} reload failed after {describe(plan)} changed: {done}; "
                "still serving the previous version"
            )
        else:
            self.echo(
                f"{PREFIX} reloaded after {describe(plan)} changed: {done} "
                f"in {time.monotonic() - started:.1f}s"
            )
        return not failed

    async def _gateway(self, plan: ReloadPlan) -> str:
        if plan.synthesize:
            await self._synthesize()
        url = f"{self.gateway_url}/_wsgate/reload"
        timeout = aiohttp.ClientTimeout(total=GATEWAY_RELOAD_TIMEOUT_S)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, json={"reimport": plan.reimport_code}) as response,
            ):
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise StepFailedError(f"gateway did not reload: {error!r}") from None
        if response.status != 200:
            raise StepFailedError(f"gateway kept its API: {answer.get('message', answer)}")
        what = "template and gateway API" if plan.synthesize else "gateway API"
        code = ", Lambda code" if plan.reimport_code else ""
        return f"{what}{code} reloaded ({len(answer['routes'])} routes)"

    async def _synthesize(self) -> None:
        try:
            await self.synthesizer.synthesize()
        except SynthesisError as error:
            raise StepFailedError(f"template not synthesized: {error}") from None

    async def _service(self) -> str:
        try:
            swapped = await self.service.swap()
        except ServiceSwapError as error:
            raise StepFailedError(f"service did not start: {error}") from None
        if self.on_swapped is not None:
            await self.on_swapped(swapped)
        return (
            f"service replaced (pid {swapped.old_pid} -> {swapped.new_pid}, "
            f"ready in {swapped.ready_s:.1f}s)"
        )
