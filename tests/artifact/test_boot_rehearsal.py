"""The instance boot, rehearsed on this machine: the real user data (rendered the way the
launch template's Fn::Sub renders it) fetches the artifact, runs its install script under a
temporary root, starts the unit and signals CloudFormation.

``aws``, ``curl`` (IMDS), ``systemctl``, ``useradd`` and ``dnf`` are stand-ins on PATH
(tests/artifact/standins.py); Python, venv, pip (``--no-index``) and the service are real.
Signal semantics (SUCCESS only when ready, FAILURE otherwise, unique id = instance id):
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_SignalResource.html
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import user_data
from infra.fleet import GROUP
from shared.names import ARTIFACT_KEY_PREFIX
from tests.artifact import standins
from tests.support.moto import CREDENTIALS, moto_server
from wsgate.artifact.build import Artifact, artifact_name

REGION = "eu-west-1"
BUCKET = "rehearsal-artifacts"
STACK = "wsgate-rehearsal"
TABLE = "wsgate-rehearsal-connections"
API_ID = "rehearse01"
INTEGRATION_SECRET = "wsgate-rehearsal/integration-secret"
ROLE_PACKAGES = {"moto", "chalice", "troposphere", "awacs", "boto3", "pytest", "cfn-lint"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _records(state: Path, name: str) -> list[Any]:
    path = state / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@dataclass
class Boot:
    returncode: int
    output: str
    state: Path
    root: Path
    port: int

    def records(self, name: str) -> list[Any]:
        return _records(self.state, name)


@pytest.fixture(scope="module")
def secrets_endpoint() -> Iterator[str]:
    """Secrets Manager holding the integration secret the service loads before it answers."""
    with moto_server() as endpoint:
        secrets = boto3.client(
            "secretsmanager", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS
        )
        secrets.create_secret(Name=INTEGRATION_SECRET, SecretString="rehearsal0secret0value")
        yield endpoint


@pytest.fixture
def boot(tmp_path: Path, secrets_endpoint: str) -> Iterator[Any]:
    """Run the user data for an artifact file; stops the service it started (by its pid)."""
    started: list[Path] = []

    def run(
        artifact: Path, key: str, *, port: int | None = None, timeout: int = 60, upload: bool = True
    ) -> Boot:
        state, root, bin_dir = tmp_path / "state", tmp_path / "root", tmp_path / "bin"
        state.mkdir()
        root.mkdir()
        standins.install(bin_dir)
        stored = state / "s3" / BUCKET / key
        stored.parent.mkdir(parents=True)
        if upload:
            shutil.copyfile(artifact, stored)
        port = port or _free_port()
        script = user_data.render(
            user_data.USER_DATA.read_text(),
            {
                "AWS::Region": REGION,
                "AWS::StackName": STACK,
                "ConnectionsTable": TABLE,
                "ServicePort": str(port),
                "SignalResource": GROUP,
                "ArtifactBucket": BUCKET,
                "ArtifactKey": key,
                "WebSocketApi": API_ID,
                "StageName": "prod",
                "IntegrationSecret": INTEGRATION_SECRET,
            },
        )
        (tmp_path / "user-data.sh").write_text(script)
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(state),
            "TMPDIR": str(tmp_path),
            "REHEARSAL_STATE": str(state),
            "WSGATE_INSTALL_ROOT": str(root),
            "WSGATE_HEALTH_TIMEOUT": str(timeout),
            "PIP_CONFIG_FILE": os.devnull,  # no index, no find-links but the artifact's
            "REHEARSAL_AWS_ENV": json.dumps(
                {
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets_endpoint,
                }
            ),
        }
        started.append(state)
        done = subprocess.run(
            ["bash", str(tmp_path / "user-data.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout + 240,
            check=False,
        )
        return Boot(done.returncode, done.stdout + done.stderr, state, root, port)

    yield run
    for state in started:
        pid_file = state / "service.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            with contextlib.suppress(ProcessLookupError):  # it may have exited already
                os.killpg(pid, signal.SIGTERM)  # its own session: the service and its workers


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
        result: dict[str, Any] = json.load(answer)
        return result


def test_boot_installs_starts_and_signals_success(boot: Any, host_artifact: Artifact) -> None:
    result = boot(host_artifact.path, host_artifact.key)
    assert result.returncode == 0, result.output
    assert _health(result.port) == {"status": "ok"}
    assert result.records("signals") == [
        {
            "stack-name": STACK,
            "logical-resource-id": GROUP,
            "unique-id": standins.INSTANCE_ID,
            "status": "SUCCESS",
        }
    ]
    assert ["s3", "cp", "--only-show-errors", f"s3://{BUCKET}/{host_artifact.key}"] == (
        result.records("aws")[0][:4]
    )
    assert result.records("systemctl") == [["daemon-reload"], ["enable", "--now", "wsgate.service"]]
    assert result.records("useradd")[0][:1] == ["--system"]
    assert result.records("dnf") == []
    env_file = result.root / "etc" / "wsgate" / "wsgate.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert f"WSGATE_TABLE_NAME={TABLE}" in env_file.read_text().splitlines()
    installed = subprocess.run(
        [str(result.root / "opt/wsgate/venv/bin/python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert {"wsgate", "sanic", "aiobotocore", "pydantic-settings"} <= names
    assert names.isdisjoint(ROLE_PACKAGES), names & ROLE_PACKAGES


def _without(artifact: Path, prefix: str, destination: Path) -> Path:
    """A copy of the artifact with the wheel(s) starting with ``prefix`` left out."""
    with tarfile.open(artifact) as source, tarfile.open(destination, "w:gz") as broken:
        dropped = 0
        for member in source.getmembers():
            if Path(member.name).name.startswith(prefix):
                dropped += 1
                continue
            data = source.extractfile(member)
            broken.addfile(member, io.BytesIO(data.read()) if data else None)
    assert dropped == 1
    return destination


def test_missing_dependency_signals_failure_and_starts_nothing(
    boot: Any, host_artifact: Artifact, tmp_path: Path
) -> None:
    broken = _without(host_artifact.path, "sanic-", tmp_path / "broken.tar.gz")
    digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    result = boot(broken, ARTIFACT_KEY_PREFIX + artifact_name("0.1.0", digest))
    assert result.returncode != 0
    assert [s["status"] for s in result.records("signals")] == ["FAILURE"]
    assert result.records("systemctl") == []
    assert "sanic" in result.output


def test_missing_artifact_signals_failure(boot: Any, host_artifact: Artifact) -> None:
    """A wrong ArtifactKey (or bucket): the download fails and the instance says so at once."""
    result = boot(host_artifact.path, host_artifact.key, upload=False)
    assert result.returncode != 0
    assert "does not exist" in result.output
    assert [s["status"] for s in result.records("signals")] == ["FAILURE"]
    assert result.records("systemctl") == [] and result.records("useradd") == []


def test_artifact_that_does_not_match_its_key_signals_failure(
    boot: Any, host_artifact: Artifact, tmp_path: Path
) -> None:
    """A truncated upload, or a key reused for other content, is refused before installing."""
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(host_artifact.path.read_bytes()[:-1024])
    result = boot(truncated, host_artifact.key)
    assert result.returncode != 0
    assert f"but its key says {host_artifact.sha256[:12]}" in result.output
    assert [s["status"] for s in result.records("signals")] == ["FAILURE"]
    assert result.records("useradd") == []


def test_service_that_never_answers_signals_failure(boot: Any, host_artifact: Artifact) -> None:
    """The port is held by a socket that never answers HTTP: the service cannot bind it, and
    the install script gives up after its health timeout instead of reporting success."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        result = boot(
            host_artifact.path, host_artifact.key, port=squatter.getsockname()[1], timeout=15
        )
    assert result.returncode != 0
    assert [s["status"] for s in result.records("signals")] == ["FAILURE"]
    assert "did not answer ok within 15s" in result.output
