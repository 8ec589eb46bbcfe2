"""Keep ``wsgate local`` running when one of its children dies, as systemd does in production.

A restartable child (the service, moto) that exits is started again after the backoff of its
:class:`~wsgate.local.restart_policy.RestartBudget`, in place: same port, same argv, same log.
The gateway is a separate child that is *not* restarted here, so its WebSocket connections stay
open while the service behind it comes back. Each event is one terminal line, so a developer
sees what happened without opening the logs. A child that is not restartable, or one that
crash-loops past the policy's limit, stops the stack with its last output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from wsgate.local.processes import Child, StartupError, Supervisor
from wsgate.local.restart_policy import RestartBudget, RestartPolicy, describe_exit

PREFIX = "wsgate local:"
"""Every supervision line starts with this, so scripts (and the tests) can pick them out."""

AfterRestart = Callable[[Child], Awaitable[None]]
"""Work to redo once a child is back (recreate moto's table, rewrite ``local.json``)."""


class CrashLoopError(StartupError):
    """A child kept dying right after each restart; restarting it again would not help."""


@dataclass
class Watchdog:
    """Polls the supervisor's children and restarts the restartable ones that died."""

    supervisor: Supervisor
    echo: Callable[[str], None]
    restartable: frozenset[str]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    after_restart: AfterRestart | None = None
    budgets: dict[str, RestartBudget] = field(default_factory=dict)

    async def run(self, interval_s: float = 0.25) -> None:
        """Watch until cancelled; raises :class:`StartupError` when the stack must stop."""
        while True:
            for child in self.supervisor.exited():
                await self.recover(child)
            await asyncio.sleep(interval_s)

    async def recover(self, child: Child) -> None:
        """Restart ``child`` until it is ready again, or raise if it must not or will not."""
        exit_text = describe_exit(child.process.returncode)
        if child.name not in self.restartable:
            raise StartupError(
                f"{child.name} {exit_text}; stopping the stack. Its last output:\n{child.tail()}"
            )
        budget = self.budgets.setdefault(child.name, RestartBudget(self.policy))
        uptime_s = child.uptime_s()
        while True:
            delay_s = budget.on_exit(uptime_s)
            if delay_s is None:
                raise CrashLoopError(
                    f"{child.name} died {budget.crashes} times in a row, never staying up "
                    f"{self.policy.stable_after_s:g}s (last: {exit_text}); stopping the stack. "
                    f"Its last output:\n{child.tail()}"
                )
            self.echo(
                f"{PREFIX} {child.name} (pid {child.process.pid}) {exit_text} after "
                f"{uptime_s:.1f}s; restarting in {delay_s:g}s "
                f"(restart {budget.crashes} of at most {self.policy.max_restarts} in a row)"
            )
            await asyncio.sleep(delay_s)
            self.supervisor.respawn(child)
            try:
                await self.supervisor.await_ready(child)
                if self.after_restart is not None:
                    await self.after_restart(child)
            except StartupError as error:
                _ensure_dead(child)
                exit_text = f"failed to come back ({error.args[0].splitlines()[0]})"
                uptime_s = 0.0
                continue
            self.echo(f"{PREFIX} {child.name} is back (pid {child.process.pid})")
            return


def _ensure_dead(child: Child) -> None:
    if child.process.poll() is None:
        child.process.kill()
        child.process.wait()
