"""What a change to the project's files means for a running ``wsgate local --reload``.

Plain arithmetic on paths, so every rule is unit-tested without processes. The packages feed
the stack's pieces differently: ``ec2_service`` is only the service; ``shared`` (routes,
models, request templates) feeds both the synthesized template and the service; ``infra`` is
only the template; ``chalice_app`` is code the gateway runs itself (the ``$connect``
authorizer, in-process) or in its Lambda worker processes. Anything else (tests, docs, the
``wsgate`` tools themselves) changes nothing that runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath


@dataclass(frozen=True)
class ReloadPlan:
    """The steps a batch of changes needs, in the order they run: template, gateway, service."""

    synthesize: bool = False
    """Write the template again (``wsgate synth``), in a fresh process so new code is used."""
    reload_gateway: bool = False
    """The gateway re-reads the template in place; its connections stay open."""
    reimport_code: bool = False
    """The gateway imports the authorizer again and retires its warm Lambda workers."""
    restart_service: bool = False
    """A new service process takes over the listening socket from the old one."""
    changed: tuple[str, ...] = ()
    """The changed files that matter, relative to the project root, sorted."""

    @property
    def empty(self) -> bool:
        return not (self.synthesize or self.reload_gateway or self.restart_service)

    def merge(self, other: ReloadPlan) -> ReloadPlan:
        """Both plans' steps (a change that arrives while another is being applied)."""
        return ReloadPlan(
            self.synthesize or other.synthesize,
            self.reload_gateway or other.reload_gateway,
            self.reimport_code or other.reimport_code,
            self.restart_service or other.restart_service,
            tuple(sorted({*self.changed, *other.changed})),
        )


PACKAGE_PLANS: dict[str, ReloadPlan] = {
    "ec2_service": ReloadPlan(restart_service=True),
    "shared": ReloadPlan(
        synthesize=True, reload_gateway=True, reimport_code=True, restart_service=True
    ),
    "infra": ReloadPlan(synthesize=True, reload_gateway=True),
    "chalice_app": ReloadPlan(reload_gateway=True, reimport_code=True),
}
"""Top-level package -> what a change inside it needs."""

WATCHED_SUFFIXES = (".py", ".json", ".vm")
"""Python code, Chalice's ``.chalice/config.json`` (Lambda settings) and VTL templates."""


def plan_for(paths: Iterable[str | PurePath], root: Path) -> ReloadPlan:
    """The plan for files that changed (created, modified or deleted) under ``root``."""
    plan = ReloadPlan()
    for raw in paths:
        path = PurePath(raw)
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue
        if not relative.parts or path.suffix not in WATCHED_SUFFIXES:
            continue
        if "__pycache__" in relative.parts:
            continue
        package_plan = PACKAGE_PLANS.get(relative.parts[0])
        if package_plan is not None:
            plan = plan.merge(package_plan).merge(ReloadPlan(changed=(relative.as_posix(),)))
    return plan


def watched_dirs(root: Path) -> list[Path]:
    """The package directories a watcher needs (those that exist under ``root``)."""
    return [root / name for name in PACKAGE_PLANS if (root / name).is_dir()]


def describe(plan: ReloadPlan) -> str:
    """``ec2_service/handlers.py (+2 more)``: what the one reload line names."""
    if not plan.changed:
        return "nothing"
    first, extra = plan.changed[0], len(plan.changed) - 1
    return first if extra == 0 else f"{first} (+{extra} more)"
