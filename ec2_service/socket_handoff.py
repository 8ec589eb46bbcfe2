"""Serving on a listening socket someone else bound, and saying when the service is ready.

A supervisor that owns the listening socket (systemd's socket activation, ``wsgate local
--reload``) can start a new service process on it while the old one still serves: no client
connection is ever refused, because the socket never closes; connections wait in its backlog
until a process accepts them. The supervisor stops the old process only once the new one says
it is ready, using systemd's notification protocol (``READY=1`` on the datagram socket named by
``NOTIFY_SOCKET``; https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html), so a
new process that fails to import or start leaves the old one serving.
"""

from __future__ import annotations

import os
import socket

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
"""systemd's variable (not a ``WSGATE_*`` one): its value is a socket path, ``@`` = abstract."""


class HandoffError(RuntimeError):
    """The inherited descriptor is not a listening TCP socket; the message says what it is."""


def inherited_socket(fd: int) -> socket.socket:
    """The listening TCP socket at descriptor ``fd``, checked before Sanic is given it."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise HandoffError(f"--fd {fd} is not an open socket: {error.strerror}") from None
    listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    if sock.type != socket.SOCK_STREAM or not listening:
        sock.detach()
        raise HandoffError(f"--fd {fd} is not a listening TCP socket")
    return sock


def notify_ready(environ: dict[str, str] | None = None) -> bool:
    """Send ``READY=1`` to the supervisor if it asked for it; True when a message was sent."""
    address = (environ if environ is not None else os.environ).get(NOTIFY_SOCKET_ENV, "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.sendto(f"READY=1\nMAINPID={os.getpid()}".encode(), address)
    return True
