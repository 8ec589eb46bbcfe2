"""The soak at toy scale (20 clients, seconds per phase), so ``make soak`` never rots.

It checks what must hold at any scale: nothing is lost while the service is up, every client
stays connected through every fault, the stack recovers from each, and no connection record is
left once everyone has left and the ops prune has run. Pong latency and memory growth are
reported by ``make soak``, where the run is long enough for them to mean something.
"""

from __future__ import annotations

from pathlib import Path

from wsgate.bench.soak import SoakConfig, run_soak
from wsgate.bench.soak_verdict import render, verdict

MUST_HOLD = (
    "no message lost while the service is up",
    "every client stays connected through every fault",
    "the stack recovers from every fault",
    "no connection record left after everyone leaves and prune runs",
)


async def test_the_smoke_soak_loses_nothing_while_up_and_recovers_from_each_fault(
    tmp_path: Path,
) -> None:
    report = await run_soak(SoakConfig.smoke(), tmp_path)
    report["verdict"] = verdict(report)
    text = render(report)
    checks = {check["check"]: check for check in report["verdict"]}
    for name in MUST_HOLD:
        assert checks[name]["ok"], f"{name}: {checks[name]['detail']}\n{text}"
    phases = report["phases"]
    assert all(phases[p]["sent"] > 0 for p in ("steady", "service-up", "store-up", "pause-up"))
    assert all(row["pongs"] > 0 for row in phases.values()), "pings are timed in every phase"
    # While the service is dead, a sender is told so, as API Gateway tells it.
    assert "Internal server error" in phases["service-down"]["errors"], text
    lines = "\n".join(report["supervision_lines"])
    assert "service (pid" in lines and "killed by SIGKILL" in lines, text
    assert "moto is back" in lines, text
