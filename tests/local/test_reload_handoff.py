"""The service's side of a reload: serving an inherited socket, and saying READY=1.

systemd's notification protocol (``READY=1``, ``MAINPID=``, ``@`` for an abstract socket):
https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html
"""

from __future__ import annotations

import os
import socket
import tempfile

import pytest

from ec2_service.socket_handoff import HandoffError, inherited_socket, notify_ready


def test_a_listening_socket_is_accepted() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        inherited = inherited_socket(os.dup(listener.fileno()))
        try:
            assert inherited.getsockname() == listener.getsockname()
        finally:
            inherited.close()


def test_a_socket_that_does_not_listen_is_refused() -> None:
    with socket.socket() as idle:
        idle.bind(("127.0.0.1", 0))
        with pytest.raises(HandoffError, match="not a listening TCP socket"):
            inherited_socket(idle.fileno())
        assert idle.fileno() >= 0  # still ours: the refusal does not close it


def test_a_descriptor_that_is_no_socket_is_refused() -> None:
    with (
        tempfile.TemporaryFile() as regular,
        pytest.raises(HandoffError, match="not an open socket"),
    ):
        inherited_socket(regular.fileno())


def test_ready_goes_to_the_notify_socket_only_when_asked() -> None:
    assert notify_ready({}) is False
    name = f"wsgate-test-notify-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as supervisor:
        supervisor.bind("\0" + name)
        supervisor.settimeout(5)
        assert notify_ready({"NOTIFY_SOCKET": "@" + name}) is True
        message = supervisor.recv(256).decode()
    assert message.split("\n") == ["READY=1", f"MAINPID={os.getpid()}"]
