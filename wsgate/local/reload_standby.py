"""A warm standby for the next service process or synthesis: libraries imported, project not.

Most of a service start is importing Sanic, aiohttp, botocore and pydantic (about 0.5 s of
the 1.2 s on a laptop); the project's own modules take 40 ms. ``wsgate local --reload`` keeps
one ``python -m wsgate.local.reload_standby MODULE ARGS`` waiting with the libraries MODULE
needs loaded; on SIGUSR1 it runs ``python -m MODULE ARGS`` in place, importing the edited
files then. The libraries never change while the stack runs, so nothing stale is served.

The handshake uses systemd's notification socket (``NOTIFY_SOCKET``): ``STATUS=standby`` once
SIGUSR1 is blocked and the libraries are loaded (a signal sent earlier would kill the
process), then the service's own ``READY=1``. If the project code fails to import or start,
the standby prints one line starting with ``ERROR_PREFIX`` and exits with status 1.
"""

from __future__ import annotations

import importlib
import os
import runpy
import signal
import socket
import sys
import traceback

SERVICE_MODULE = "ec2_service"
SYNTH_MODULE = "wsgate.local.reload_synth"
ERROR_PREFIX = "wsgate-reload-error:"
STANDBY_STATUS = b"STATUS=standby"
WARM_MODULES: dict[str, tuple[str, ...]] = {
    SERVICE_MODULE: (
        "sanic",
        "sanic.worker.loader",
        "aiohttp",
        "aiobotocore.session",
        "aiobotocore.config",
        "botocore.client",
        "botocore.auth",
        "pydantic",
        "pydantic_settings",
        "yarl",
    ),
    SYNTH_MODULE: ("troposphere", "awacs.aws", "cfn_flip", "pydantic", "yaml"),
}
"""Third-party libraries only: importing the project here would run the code as it was."""


def warm_up(module: str) -> None:
    for name in WARM_MODULES.get(module, ()):
        importlib.import_module(name)


def _notify(message: bytes) -> None:
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.sendto(message, "\0" + address[1:] if address.startswith("@") else address)


def _where(filename: str, line: int | None) -> str:
    return f" ({'/'.join(filename.split(os.sep)[-2:])}:{line})"


def failure_line(error: BaseException) -> str:
    """One line for the terminal: the exception and the project file and line it came from."""
    if isinstance(error, SystemExit):
        return str(error.code)
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg}" + _where(error.filename or "?", error.lineno)
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in frame.filename and not frame.filename.startswith("<")
    ]
    message = f"{type(error).__name__}: {error}".splitlines()[0]
    return message + (_where(frames[-1].filename, frames[-1].lineno) if frames else "")


def main(argv: list[str]) -> None:
    module, *args = argv
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    warm_up(module)
    _notify(STANDBY_STATUS)
    signal.sigwait({signal.SIGUSR1})
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as error:
        if error.code not in (None, 0):
            print(f"{ERROR_PREFIX} {failure_line(error)}", flush=True)
        raise
    except BaseException as error:
        print(f"{ERROR_PREFIX} {failure_line(error)}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
