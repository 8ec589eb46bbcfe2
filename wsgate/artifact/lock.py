"""The lock of the service's dependencies: exact versions of everything an instance installs.

The lock is written by pip's own resolver for the instance target (``pip install --dry-run
--report`` with ``--platform``/``--python-version``), so markers are evaluated for the image's
Python, not the developer's. It is committed; ``make lock`` rewrites it, and a test checks it
still satisfies pyproject's ``service`` extra.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from wsgate.artifact.target import Target

PROJECT = Path(__file__).resolve().parents[2]
LOCK_PATH = PROJECT / "ec2_service" / "deploy" / "service.lock"
SERVICE_EXTRA = "service"
PROJECT_NAME = "wsgate"
BOOTSTRAP = ("pip",)
"""Locked besides the service's own dependencies: the venv on the instance is created without
pip (the image's Python may lack ensurepip) and pip is installed from the wheelhouse."""


class LockError(RuntimeError):
    """The lock cannot be written or no longer matches pyproject."""


@dataclass(frozen=True, order=True)
class Pin:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def service_requirements(pyproject: Path = PROJECT / "pyproject.toml") -> list[Requirement]:
    """The base dependencies plus the ``service`` extra: what an instance must have."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"][SERVICE_EXTRA]]
    return [Requirement(line) for line in lines]


def pins_from_report(report: Mapping[str, Any]) -> list[Pin]:
    """The pins of a pip installation report, without the project itself."""
    pins = {
        Pin(str(canonicalize_name(item["metadata"]["name"])), item["metadata"]["version"])
        for item in report["install"]
    }
    return sorted(p for p in pins if p.name != PROJECT_NAME)


def render(pins: Iterable[Pin], target: Target) -> str:
    header = (
        f"# The service's locked dependencies (pip resolver, Python "
        f"{target.python_version[0]}.{target.python_version[1]}, {target.name}, wheels only).\n"
        "# Written by `make lock`; read by `wsgate build`. Do not edit by hand.\n"
    )
    return header + "".join(f"{pin}\n" for pin in sorted(pins))


def parse(text: str) -> list[Pin]:
    pins = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name or not version:
            raise LockError(f"{LOCK_PATH.name}:{number}: expected name==version, got {raw!r}")
        pins.append(Pin(str(canonicalize_name(name.strip())), version.strip()))
    return pins


def read_lock(path: Path = LOCK_PATH) -> list[Pin]:
    if not path.exists():
        raise LockError(f"{path} is missing: run `make lock` (needs PyPI)")
    return parse(path.read_text())


def unmet(requirements: Iterable[Requirement], pins: Iterable[Pin]) -> list[str]:
    """Requirements the pins do not satisfy (missing or outside the specifier)."""
    versions = {p.name: Version(p.version) for p in pins}
    problems = []
    for requirement in requirements:
        name = str(canonicalize_name(requirement.name))
        if name not in versions:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(versions[name], prereleases=True):
            problems.append(f"{requirement} but the lock has {name}=={versions[name]}")
    return problems


def resolve(target: Target, pyproject: Path = PROJECT / "pyproject.toml") -> list[Pin]:
    """Ask pip's resolver for the service's dependency set on ``target`` (needs an index).

    It resolves the requirements, not the project directory, so nothing is built for it.
    """
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report_path),
            *target.pip_options,
            *(str(r) for r in service_requirements(pyproject)),
            *BOOTSTRAP,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LockError(f"pip could not resolve the service for {target.name}:\n{done.stderr}")
        return pins_from_report(json.loads(report_path.read_text()))


def main() -> None:
    """``make lock``: rewrite the lock for the x86_64 instance target."""
    from wsgate.artifact.target import instance_target

    target = instance_target("x86_64")
    LOCK_PATH.write_text(render(resolve(target), target))
    print(f"wrote {LOCK_PATH.relative_to(PROJECT)}")
