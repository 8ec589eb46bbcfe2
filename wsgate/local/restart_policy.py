"""When to restart a crashed child of ``wsgate local``, and when to give up.

Production runs the service under systemd with ``Restart=on-failure``; locally the same promise
is kept by ``wsgate local`` itself. The policy is plain arithmetic on uptimes so it can be
tested without processes: exponential backoff between restarts, a cap on the delay, a reset once
a child has stayed up for a stable period, and a limit after which a crash loop stops the stack
instead of burning a core on restarts that keep failing.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    """Backoff parameters; the defaults give 0.5, 1, 2, 4, 8 s, then a stop."""

    initial_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 8.0
    stable_after_s: float = 30.0
    """A child that ran at least this long before dying counts as healthy: the count resets."""
    max_restarts: int = 5
    """Restarts allowed without a stable period in between; one more crash stops the stack."""

    def delay(self, attempt: int) -> float:
        """The wait before restart number ``attempt`` (1-based) of an unstable streak."""
        return min(self.max_delay_s, self.initial_delay_s * self.factor ** (attempt - 1))


@dataclass
class RestartBudget:
    """One child's streak of crashes under a :class:`RestartPolicy`."""

    policy: RestartPolicy
    crashes: int = 0

    def on_exit(self, uptime_s: float) -> float | None:
        """Record a crash after ``uptime_s`` of running; the delay before restarting, or None.

        None means the child is crash-looping: it died ``max_restarts + 1`` times in a row,
        each time before staying up for ``stable_after_s``.
        """
        if uptime_s >= self.policy.stable_after_s:
            self.crashes = 0
        self.crashes += 1
        if self.crashes > self.policy.max_restarts:
            return None
        return self.policy.delay(self.crashes)


def describe_exit(returncode: int) -> str:
    """``exit code 3`` or ``killed by SIGKILL``: Popen reports a signal as a negative code."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
