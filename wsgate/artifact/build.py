"""Assemble the service artifact: wheelhouse, install script, systemd unit, in one tar.gz.

The tar is written deterministically (sorted entries, fixed owners, modes and times, gzip
without a timestamp), so its sha256 depends on content only; the hash is in the file name and
the S3 key, and a new key is what rolls the fleet.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.names import ARTIFACT_KEY_PREFIX, ARTIFACT_NAME
from wsgate.artifact import wheelhouse
from wsgate.artifact.lock import LOCK_PATH, PROJECT, read_lock
from wsgate.artifact.target import Target, instance_target

DEPLOY = PROJECT / "ec2_service" / "deploy"
INSTALL_SCRIPT = "install.sh"
UNIT = "wsgate.service"
TOP = ARTIFACT_NAME
"""The one directory at the top of the tar; user data runs ``<TOP>/install.sh``."""
EXECUTABLE = {INSTALL_SCRIPT}


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str
    key: str
    """The S3 key to upload it under (``artifacts/wsgate-service-<version>-<sha12>.tar.gz``)."""
    architecture: str


def project_version(project: Path = PROJECT) -> str:
    return str(tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"])


def artifact_name(version: str, sha256: str) -> str:
    return f"{ARTIFACT_NAME}-{version}-{sha256[:12]}.tar.gz"


def build_artifact(
    output_dir: Path, *, architecture: Literal["x86_64", "arm64"] = "x86_64"
) -> Artifact:
    """Build the artifact for the fleet's ``architecture`` (needs PyPI for the wheelhouse)."""
    return build_for(instance_target(architecture), output_dir)


def build_for(
    target: Target,
    output_dir: Path,
    *,
    find_links: Path | None = None,
    lock: Path = LOCK_PATH,
    project: Path = PROJECT,
) -> Artifact:
    """Build the artifact for any target; ``find_links`` makes the download offline."""
    pins = read_lock(lock)
    with tempfile.TemporaryDirectory(prefix="wsgate-build-") as scratch_name:
        scratch = Path(scratch_name)
        staging = scratch / TOP
        wheels = staging / "wheelhouse"
        wheels.mkdir(parents=True)
        wheelhouse.build_project_wheel(project, wheels, scratch)
        wheelhouse.download(pins, target, wheels, find_links)
        problems = wheelhouse.check(wheels, pins, target)
        if problems:
            raise wheelhouse.WheelhouseError("; ".join(problems))
        for name in (INSTALL_SCRIPT, UNIT):
            shutil.copyfile(project / "ec2_service" / "deploy" / name, staging / name)
        (staging / "runtime.env").write_text(target.runtime_env())
        (staging / "manifest.json").write_text(_manifest(target, wheels, project))
        packed = scratch / "artifact.tar.gz"
        _pack(staging, packed)
        digest = hashlib.sha256(packed.read_bytes()).hexdigest()
        name = artifact_name(project_version(project), digest)
        output_dir.mkdir(parents=True, exist_ok=True)
        final = output_dir / name
        shutil.move(packed, final)
    return Artifact(
        path=final, sha256=digest, key=ARTIFACT_KEY_PREFIX + name, architecture=target.name
    )


def _manifest(target: Target, wheels: Path, project: Path) -> str:
    """What is inside, for a human on the instance and for tests: wheels with their sha256."""
    manifest = {
        "name": ARTIFACT_NAME,
        "version": project_version(project),
        "target": target.name,
        "python": ".".join(map(str, target.python_version)),
        "wheels": {
            wheel.name: hashlib.sha256(wheel.read_bytes()).hexdigest()
            for wheel in sorted(wheels.glob("*.whl"))
        },
    }
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def _pack(staging: Path, destination: Path) -> None:
    """A reproducible tar.gz of ``staging`` under the directory name :data:`TOP`."""
    paths = sorted(p for p in staging.rglob("*") if p.is_file())
    with (
        destination.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in paths:
            relative = path.relative_to(staging)
            info = tarfile.TarInfo(f"{TOP}/{relative.as_posix()}")
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if relative.name in EXECUTABLE else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
