"""The lock of the service's dependencies: exact versions, and the sha256 of every wheel an
instance of either architecture may install.

The lock is written by pip's own resolver for each instance target (``pip install --dry-run
--report`` with ``--platform``/``--python-version``), so markers are evaluated for the image's
Python, not the developer's; both architectures must resolve to the same versions, and each pin
carries the hashes of its x86_64 and arm64 wheels (one hash for a pure wheel). Instance builds
download with ``--require-hashes``. It is committed; ``make lock`` rewrites it, and a test checks
it still satisfies pyproject's ``service`` extra.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra.runtime import ARCHITECTURES
from wsgate.artifact.target import Target, instance_target

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
    hashes: tuple[str, ...] = field(default=(), compare=False)
    """sha256 of the wheels instances may install (empty: not hash-checked)."""

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"

    def requirement_line(self) -> str:
        """The pip requirements-file line, with ``--hash`` options when there are hashes."""
        return " ".join([str(self), *(f"--hash=sha256:{h}" for h in self.hashes)])


def service_requirements(pyproject: Path = PROJECT / "pyproject.toml") -> list[Requirement]:
    """The base dependencies plus the ``service`` extra: what an instance must have."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"][SERVICE_EXTRA]]
    return [Requirement(line) for line in lines]


def pins_from_report(report: Mapping[str, Any]) -> list[Pin]:
    """The pins of a pip installation report (with each wheel's sha256), without the project."""
    pins = set()
    for item in report["install"]:
        name = str(canonicalize_name(item["metadata"]["name"]))
        digest = item.get("download_info", {}).get("archive_info", {}).get("hashes", {})
        hashes = (digest["sha256"],) if "sha256" in digest else ()
        pins.add(Pin(name, item["metadata"]["version"], hashes))
    return sorted(p for p in pins if p.name != PROJECT_NAME)


def merge(per_target: Mapping[str, list[Pin]]) -> list[Pin]:
    """One pin set from several targets' resolutions, which must agree on every version."""
    versions = {name: {(p.name, p.version) for p in pins} for name, pins in per_target.items()}
    first, *others = versions
    for other in others:
        if versions[other] != versions[first]:
            only = sorted(versions[first] ^ versions[other])
            raise LockError(f"{first} and {other} resolve differently: {only}")
    hashes: dict[tuple[str, str], set[str]] = {}
    for pins in per_target.values():
        for pin in pins:
            hashes.setdefault((pin.name, pin.version), set()).update(pin.hashes)
    return [Pin(n, v, tuple(sorted(h))) for (n, v), h in sorted(hashes.items())]


def render(pins: Iterable[Pin], targets: Iterable[str]) -> str:
    header = (
        "# The service's locked dependencies: pip's resolver, wheels only, for the instance\n"
        f"# Python and {', '.join(targets)}; hashes of every wheel an instance may install.\n"
        "# Written by `make lock`; read by `wsgate build`. Do not edit by hand.\n"
    )
    body = []
    for pin in sorted(pins):
        body.append(" \\\n    ".join([str(pin), *(f"--hash=sha256:{h}" for h in pin.hashes)]))
    return header + "".join(f"{line}\n" for line in body)


def parse(text: str) -> list[Pin]:
    pins = []
    logical = text.replace("\\\n", " ")
    for number, raw in enumerate(logical.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        name, sep, version = words[0].partition("==")
        hashes = tuple(w.removeprefix("--hash=sha256:") for w in words[1:])
        bad = [w for w in words[1:] if not w.startswith("--hash=sha256:")]
        if not sep or not name or not version or bad:
            raise LockError(
                f"{LOCK_PATH.name}: line {number}: expected name==version [--hash=sha256:...], "
                f"got {raw.strip()!r}"
            )
        pins.append(Pin(str(canonicalize_name(name)), version, hashes))
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
    """``make lock``: resolve for every instance architecture and write the merged lock."""
    pins = merge({arch: resolve(instance_target(arch)) for arch in ARCHITECTURES})
    LOCK_PATH.write_text(render(pins, ARCHITECTURES))
    print(f"wrote {LOCK_PATH.relative_to(PROJECT)}: {len(pins)} packages")
