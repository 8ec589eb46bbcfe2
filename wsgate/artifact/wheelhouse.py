"""The wheelhouse: the wsgate wheel plus one wheel per locked dependency, for one target.

Everything goes through pip (``pip wheel`` for the project, ``pip download`` for the lock); this
module only picks the options and then checks what pip produced against the target's tags, so a
wheel the instance's Python cannot load fails the build, not the boot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from wsgate.artifact.lock import Pin
from wsgate.artifact.target import Target

SOURCE_DATE_EPOCH = "315532800"
"""1980-01-01, the oldest date a zip entry holds: the wheel's bytes depend only on the tree."""
NOT_SOURCES = (
    ".git",
    ".venv",
    ".tools",
    "build",
    "dist",
    "node_modules",
    "tests",
    "__pycache__",
    "*.egg-info",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".wsgate",
    "bench-results",
)


class WheelhouseError(RuntimeError):
    """pip failed, or produced a wheelhouse the target cannot install from."""


def _pip(arguments: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise WheelhouseError(f"{what} failed (pip exit {done.returncode}):\n{done.stderr[-4000:]}")


def build_project_wheel(project: Path, wheelhouse: Path, scratch: Path) -> Path:
    """Build the wsgate wheel from a clean copy of the tree (no stale ``build/`` leftovers, no
    egg-info written into the checkout), with fixed timestamps so the bytes are reproducible."""
    source = scratch / "source"
    shutil.copytree(project, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    before = set(wheelhouse.glob("*.whl"))
    _pip(
        [
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(wheelhouse),
            str(source),
        ],
        "building the wsgate wheel",
        env,
    )
    built = sorted(set(wheelhouse.glob("*.whl")) - before)
    if len(built) != 1:
        raise WheelhouseError(f"expected one wsgate wheel, pip wrote {[p.name for p in built]}")
    return built[0]


def download(
    pins: Iterable[Pin], target: Target, wheelhouse: Path, find_links: Path | None = None
) -> None:
    """``pip download`` exactly the pins, wheels for ``target`` only (``--no-deps``: the lock is
    already the full closure), hash-checked for instance targets. With ``find_links`` pip reads
    only that directory (offline)."""
    arguments = ["download", "--no-deps", "--quiet", "--dest", str(wheelhouse)]
    arguments += target.pip_options
    if find_links is not None:
        arguments += ["--no-index", "--find-links", str(find_links)]
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        lines = [p.requirement_line() if target.hash_checked else str(p) for p in pins]
        requirements.write_text("".join(f"{line}\n" for line in lines))
        if target.hash_checked:
            arguments.append("--require-hashes")
        _pip([*arguments, "-r", str(requirements)], f"downloading the {target.name} wheelhouse")


def target_tags(target: Target) -> set[Tag]:
    """Every wheel tag the target's CPython accepts (its ABI, abi3, and pure wheels)."""
    interpreter = f"cp{target.python_version[0]}{target.python_version[1]}"
    tags = set(cpython_tags(target.python_version, platforms=target.platforms))
    tags |= set(compatible_tags(target.python_version, interpreter, target.platforms))
    return tags


def check(wheelhouse: Path, pins: Iterable[Pin], target: Target) -> list[str]:
    """What is wrong with the wheelhouse: missing or extra pins, wheels the target cannot load."""
    accepted = target_tags(target)
    found: dict[str, str] = {}
    problems = []
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(wheel.name)
        found[str(name)] = str(version)
        if not tags & accepted:
            problems.append(f"{wheel.name} does not load on {target.name}")
    for pin in pins:
        if found.get(pin.name) != pin.version:
            problems.append(f"{pin} is not in the wheelhouse")
    expected = {p.name for p in pins}
    extra = sorted(n for n in found if n not in expected and n != canonicalize_name("wsgate"))
    if extra:
        problems.append(f"not in the lock: {extra}")
    return problems
