"""Watching the project's packages and handing each burst of changes to the :class:`Reloader`.

File events come from ``watchfiles`` (the watcher uvicorn and Sanic use: inotify on Linux,
FSEvents on macOS), which also debounces: an editor that writes a file three times in a few
milliseconds produces one batch, yielded ``STEP_MS`` after the last write. Batches that arrive
while a reload runs wait for it, so reloads never overlap.

The project is the directory the running ``shared`` package was imported from: an editable
install's checkout, or whatever ``PYTHONPATH`` put first. The children inherit the same
environment, so what is watched is what they import.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from watchfiles import DefaultFilter, awatch

from wsgate.local.reload import Reloader, Synthesizer
from wsgate.local.reload_plan import plan_for, watched_dirs
from wsgate.local.reload_service import ServiceReplacer, Swapped
from wsgate.local.watchdog import PREFIX

if TYPE_CHECKING:
    from wsgate.local.stack import LocalStack

STEP_MS = 100
"""Quiet time after the last write before a batch is yielded."""
DEBOUNCE_MS = 1600
"""The longest a batch keeps growing while writes continue."""
HEARTBEAT_MS = 500
"""An empty batch this often while idle: the first one proves the watcher is running."""


def project_root() -> Path:
    """The directory holding the ``shared``, ``ec2_service``, ``chalice_app``... in use."""
    import shared

    return Path(shared.__file__).resolve().parent.parent


async def watch(root: Path, reloader: Reloader, watching: asyncio.Event) -> None:
    """Apply a plan per batch of changes under ``root``, until cancelled.

    ``watching`` is set once events are being recorded and the service's standby is warm, so
    no edit made after it is missed or waits for a cold start.
    """
    try:
        await _watch(root, reloader, watching)
    finally:
        await reloader.close()


async def _watch(root: Path, reloader: Reloader, watching: asyncio.Event) -> None:
    await reloader.warm()
    async for changes in awatch(
        *watched_dirs(root),
        watch_filter=DefaultFilter(),
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        rust_timeout=HEARTBEAT_MS,
        yield_on_timeout=True,
    ):
        watching.set()
        plan = plan_for((path for _, path in changes), root)
        if plan.empty:
            continue
        try:
            await reloader.apply(plan)
        except Exception as error:  # a bug here must not stop the stack: say it, keep watching
            reloader.echo(f"{PREFIX} reload failed unexpectedly: {error!r}")


async def start_reloading(stack: LocalStack) -> asyncio.Task[None]:
    """Watch the project for ``stack``; returns once the watcher records events."""
    from wsgate.local.stack_options import LOCAL_AUTHORIZER_ARN

    assert stack.info is not None
    info = stack.info
    root = project_root()

    async def swapped(result: Swapped) -> None:
        info.pids = {c.name: c.process.pid for c in stack.supervisor.children}
        stack.write_state()

    synthesizer = Synthesizer(
        Path(info.template),
        stack.options.api_key_source,
        LOCAL_AUTHORIZER_ARN,
        stack.supervisor.log_dir / "synth.log",
    )
    reloader = Reloader(
        f"http://{urlsplit(info.websocket_url).netloc}",
        synthesizer,
        ServiceReplacer(stack.supervisor),
        stack.echo,
        swapped,
    )
    watching = asyncio.Event()
    task = asyncio.create_task(watch(root, reloader, watching))
    ready = asyncio.create_task(watching.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()  # the watcher could not start: raise why
    stack.echo(f"{PREFIX} reloading on changes under {root} ({', '.join(_names(root))})")
    return task


def _names(root: Path) -> list[str]:
    return [path.name for path in watched_dirs(root)]


async def stop_reloading(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
