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
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from wsgate.local.reload_plan import ReloadPlan, describe
from wsgate.local.reload_service import ServiceReplacer, ServiceSwapError, Swapped
from wsgate.local.watchdog import PREFIX

OnSwapped = Callable[[Swapped], Awaitable[None]]
GATEWAY_RELOAD_TIMEOUT_S = 60.0


class StepFailedError(RuntimeError):
    """One step of a reload failed; the message is the cause, in one line."""


@dataclass(frozen=True)
class ReloadTargets:
    """Where the pieces a reload touches are."""

    template: Path
    api_key_source: str
    authorizer_arn: str
    gateway_url: str
    """The gateway's base URL (``http://127.0.0.1:PORT``); its admin surface is on."""


@dataclass
class Reloader:
    """Applies :class:`ReloadPlan` s to the running stack, one at a time."""

    targets: ReloadTargets
    service: ServiceReplacer
    echo: Callable[[str], None]
    on_swapped: OnSwapped | None = None

    async def apply(self, plan: ReloadPlan) -> bool:
        """Run the plan's steps; print one line saying what happened; True if all succeeded."""
        started = time.monotonic()
        steps: list[Awaitable[str]] = []
        if plan.reload_gateway:
            steps.append(self._gateway(plan))
        if plan.restart_service:
            steps.append(self._service())
        outcomes = await asyncio.gather(*steps, return_exceptions=True)
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
        url = f"{self.targets.gateway_url}/_wsgate/reload"
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
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsgate.local.reload_synth",
            str(self.targets.template),
            f"--api-key-source={self.targets.api_key_source}",
            f"--authorizer-arn={self.targets.authorizer_arn}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        if process.returncode != 0:
            lines = stderr.decode(errors="replace").strip().splitlines() or ["no output"]
            raise StepFailedError(f"template not synthesized: {lines[-1]}")

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
