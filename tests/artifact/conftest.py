"""Artifacts built offline from the wheelhouses ``make wheelhouses`` prepares (``make test``
runs it first); without them these tests skip and say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsgate.artifact.build import Artifact, build_for
from wsgate.artifact.target import host_target, instance_target

PROJECT = Path(__file__).resolve().parents[2]
WHEELHOUSES = PROJECT / "build" / "wheelhouse"


def _wheelhouse(name: str) -> Path:
    path = WHEELHOUSES / name
    if not any(path.glob("*.whl")):
        pytest.skip(f"{path} is empty: `make wheelhouses` (part of `make test`) downloads it")
    return path


@pytest.fixture(scope="session")
def host_artifact(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The artifact for this machine's Python: what the boot rehearsal installs."""
    output = tmp_path_factory.mktemp("host-artifact")
    return build_for(host_target(), output, find_links=_wheelhouse("host"))


@pytest.fixture(scope="session")
def x86_64_artifact(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The artifact for x86_64 instances (Python 3.12, manylinux), built without a network."""
    output = tmp_path_factory.mktemp("x86_64-artifact")
    return build_for(instance_target("x86_64"), output, find_links=_wheelhouse("x86_64"))
