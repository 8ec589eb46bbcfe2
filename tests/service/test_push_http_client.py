"""The push fast path's HTTP client against real servers on 127.0.0.1.

Every test counts deliveries at the server (the sink): a push must arrive exactly once, or be
reported failed when it may have arrived and nothing says so; never twice.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop
from aiobotocore.session import AioSession, get_session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.connections_api import ConnectionsApi
from shared.push_fast import Timeouts
from tests.service.scripted_http import ScriptedServer
from tests.support.connections_endpoint import ACCESS_KEY, REGION, SECRET_KEY, ConnectionsEndpoint


def _session() -> AioSession:
    session = get_session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY, "token")
    return session


async def test_keep_alive_connections_are_reused() -> None:
    """300 pushes, 8 in flight: at most 8 connections, signatures accepted, each id once."""
    endpoint = ConnectionsEndpoint()
    url = await endpoint.start()
    ids = [f"k{i:03d}=" for i in range(300)]
    endpoint.open_ids.update(ids)
    try:
        async with ConnectionsApi(url, region=REGION, concurrency=8, session=_session()) as api:
            first = await api.fan_out(ids, b"one")
            second = await api.fan_out(ids, b"two")
            opened = api.connections_opened
    finally:
        await endpoint.stop()
    assert (first.delivered, second.delivered) == (300, 300)
    assert endpoint.refused == []
    assert all(endpoint.received[cid] == [b"one", b"two"] for cid in ids)
    assert 1 <= opened <= 8


async def test_a_gone_connection_is_reported_not_retried() -> None:
    server = ScriptedServer(script=["gone", "ok"])
    url = await server.start()
    gone: list[str] = []

    async def on_gone(connection_id: str) -> None:
        gone.append(connection_id)

    try:
        async with ConnectionsApi(url, region=REGION, concurrency=1, session=_session()) as api:
            result = await api.fan_out(["a=", "b="], b"x", on_gone=on_gone)
    finally:
        await server.stop()
    assert (result.delivered, result.gone, result.failed) == (1, ["a="], [])
    assert gone == ["a="]
    assert server.count("/a%3D") == 1
    assert server.count("/b%3D") == 1


async def test_a_server_closing_idle_connections_costs_nothing() -> None:
    """The server closes connections idle 300 ms (API Gateway closes idle keep-alive
    connections): the next pushes go on fresh connections, each delivered once."""
    server = ScriptedServer(idle_close_s=0.3)
    url = await server.start()
    try:
        async with ConnectionsApi(url, region=REGION, concurrency=4, session=_session()) as api:
            first = await api.fan_out(["a=", "b=", "c=", "d="], b"x")
            await asyncio.sleep(1.5)  # every connection closed by the server meanwhile
            second = await api.fan_out(["a=", "b=", "c=", "d="], b"y")
    finally:
        await server.stop()
    assert (first.delivered, second.delivered) == (4, 4)
    assert (first.failed, second.failed) == ([], [])
    assert sorted(body for _, body in server.received) == [b"x"] * 4 + [b"y"] * 4
    assert server.connections > 4  # the second fan-out had to reconnect


async def test_a_connection_the_server_closes_is_not_reused() -> None:
    """``Connection: close`` on an answer: the next push opens a fresh connection (writing it
    on the closing one could lose it: see the dropped-request test)."""
    server = ScriptedServer(script=["ok_close", "ok_close", "ok"])
    url = await server.start()
    try:
        async with ConnectionsApi(url, region=REGION, concurrency=1, session=_session()) as api:
            result = await api.fan_out(["a=", "b=", "c="], b"x")
    finally:
        await server.stop()
    assert (result.delivered, result.failed) == (3, [])
    assert [path.rsplit("/", 1)[1] for path, _ in server.received] == ["a%3D", "b%3D", "c%3D"]
    assert server.connections == 3


async def test_an_answer_split_across_reads_is_read_whole() -> None:
    """A chunked answer arriving 7 bytes at a time, then the connection is reused."""
    server = ScriptedServer(script=["split", "split", "ok"])
    url = await server.start()
    try:
        async with ConnectionsApi(url, region=REGION, concurrency=1, session=_session()) as api:
            result = await api.fan_out(["a=", "b=", "c="], b"x")
    finally:
        await server.stop()
    assert (result.delivered, result.failed) == (3, [])
    assert server.connections == 1
    assert len(server.received) == 3


async def test_a_hung_server_times_out_and_the_push_is_not_sent_twice() -> None:
    server = ScriptedServer(script=["hang", "ok"])
    url = await server.start()
    timeouts = Timeouts(connect=1.0, read=0.3)
    try:
        async with ConnectionsApi(
            url, region=REGION, concurrency=1, session=_session(), timeouts=timeouts
        ) as api:
            started = time.perf_counter()
            result = await api.fan_out(["a=", "b="], b"x")
            elapsed = time.perf_counter() - started
    finally:
        await server.stop()
    assert (result.delivered, result.failed) == (1, ["a="])
    assert server.count("/a%3D") == 1  # maybe delivered: never sent again
    assert server.count("/b%3D") == 1
    assert elapsed < 5


async def test_a_request_dropped_without_answer_is_failed_not_duplicated() -> None:
    """The server read the push and closed without answering: it may have delivered it, so
    a second POST (a second frame on the member's screen) must not follow."""
    server = ScriptedServer(script=["drop", "ok"])
    url = await server.start()
    try:
        async with ConnectionsApi(url, region=REGION, concurrency=1, session=_session()) as api:
            result = await api.fan_out(["a=", "b="], b"x")
    finally:
        await server.stop()
    assert (result.delivered, result.failed) == (1, ["a="])
    assert server.count("/a%3D") == 1
    assert server.count("/b%3D") == 1


class _ResettingServer:
    """A blocking server on its own thread: answers the first request, then resets that
    connection when told; serves the next connection normally. Counts requests by path."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.reset_now = threading.Event()
        self.reset_done = threading.Event()
        self.paths: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/prod"

    def _read_request(self, sock: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        self.paths.append(head.split(b" ")[1].decode())
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    def _run(self) -> None:
        first, _ = self.listener.accept()
        self._read_request(first)
        self.reset_now.wait(10)
        first.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        first.close()  # RST: the connection is gone before the client writes again
        self.reset_done.set()
        second, _ = self.listener.accept()
        self._read_request(second)
        second.close()


@pytest.fixture
def resetting_server() -> Iterator[_ResettingServer]:
    server = _ResettingServer()
    server.thread.start()
    yield server
    server.listener.close()
    server.thread.join(5)


async def test_a_connection_found_reset_at_the_write_is_retried_once_on_a_fresh_one(
    resetting_server: _ResettingServer,
) -> None:
    """The peer reset the idle connection and the event loop has not seen it yet (the loop is
    blocked meanwhile): the write itself fails, so nothing was sent and the push goes again
    on a fresh connection, delivered once."""
    async with ConnectionsApi(
        resetting_server.url, region=REGION, concurrency=1, session=_session()
    ) as api:
        assert await api.post("a=", b"x")
        resetting_server.reset_now.set()
        assert resetting_server.reset_done.wait(5)
        time.sleep(0.2)  # noqa: ASYNC251  # the RST arrives; the loop must not run to see it
        assert await api.post("b=", b"y")
        assert api.connections_opened == 2
    assert resetting_server.paths == ["/prod/@connections/a%3D", "/prod/@connections/b%3D"]


async def test_connect_failure_falls_back_to_botocore() -> None:
    """Nothing listening: nothing was sent, so botocore's client tries (and fails) in turn."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    timeouts = Timeouts(connect=0.5, read=0.5)
    async with ConnectionsApi(
        f"http://127.0.0.1:{port}/prod", region=REGION, session=_session(), timeouts=timeouts
    ) as api:
        result = await api.fan_out(["a=", "b="], b"x")
    assert (result.delivered, sorted(result.failed)) == (0, ["a=", "b="])


def test_fan_out_on_uvloop() -> None:
    """The service runs on uvloop, whose transports are not ``asyncio.Transport``
    subclasses: the fast path must deliver there without falling back."""

    async def run() -> tuple[int, int, list[str]]:
        endpoint = ConnectionsEndpoint()
        url = await endpoint.start()
        ids = [f"u{i:03d}=" for i in range(100)]
        endpoint.open_ids.update(ids)
        try:
            async with ConnectionsApi(url, region=REGION, concurrency=4, session=_session()) as api:
                result = await api.fan_out(ids, b"x")
        finally:
            await endpoint.stop()
        return result.delivered, sum(endpoint.attempts.values()), endpoint.refused

    assert uvloop.run(run()) == (100, 100, [])


def _tls_pair(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1 and a client context trusting only
    it: production pushes go to ``https://{api}.execute-api...``, verified."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_pushes_over_verified_tls_on_kept_alive_connections(tmp_path: Path) -> None:
    server_tls, client_tls = _tls_pair(tmp_path)
    server = ScriptedServer(tls=server_tls, script=["ok"] * 5 + ["gone", "split"])
    url = await server.start()
    ids = [f"t{i}=" for i in range(20)]
    try:
        async with ConnectionsApi(
            url, region=REGION, concurrency=2, session=_session(), tls=client_tls
        ) as api:
            result = await api.fan_out(ids, b"secret")
            opened = api.connections_opened
    finally:
        await server.stop()
    assert (result.delivered, len(result.gone), result.failed) == (19, 1, [])
    assert sorted(path.rsplit("/", 1)[1] for path, _ in server.received) == sorted(
        f"t{i}%3D" for i in range(20)
    )
    assert opened <= 2


async def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    """A server whose certificate the client does not trust gets nothing: not from the fast
    path (the handshake fails before any byte of the request) nor from botocore's."""
    server_tls, _ = _tls_pair(tmp_path)
    server = ScriptedServer(tls=server_tls)
    url = await server.start()
    timeouts = Timeouts(connect=1.0, read=1.0)
    try:
        async with ConnectionsApi(
            url, region=REGION, concurrency=1, session=_session(), timeouts=timeouts
        ) as api:
            result = await api.fan_out(["a="], b"secret")
    finally:
        await server.stop()
    assert (result.delivered, result.failed) == (0, ["a="])
    assert server.received == []
