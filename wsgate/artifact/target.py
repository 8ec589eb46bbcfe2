"""What a wheelhouse is built for: an interpreter version and the platform tags it loads.

An instance target comes from ``infra/runtime.py`` (the image's Python, manylinux for its glibc
and architecture); the host target is this machine's interpreter, for the boot rehearsal that
installs an artifact here exactly as an instance would.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import sys_tags

from infra import runtime
from shared import names


@dataclass(frozen=True)
class Target:
    """The interpreter and platform a wheelhouse must load on."""

    name: str
    """``x86_64``, ``arm64`` or ``host``: part of the artifact's file name."""
    python_version: tuple[int, int]
    platforms: tuple[str, ...]
    python: str
    """The interpreter the install script builds the venv with."""
    python_package: str
    """The OS package providing :attr:`python` (``dnf install``); empty when it is present."""
    hash_checked: bool
    """Download with the lock's hashes (``--require-hashes``). The lock holds the hashes of
    the instance wheels only, so the host target (other Python, same versions) is not."""

    @property
    def pip_options(self) -> list[str]:
        """``pip download``/``pip install --dry-run`` options selecting only wheels this target
        loads (no sdists: nothing is compiled on an instance)."""
        options = ["--only-binary=:all:", "--implementation", "cp"]
        options += ["--python-version", runtime.python_tag(self.python_version)]
        for platform in self.platforms:
            options += ["--platform", platform]
        return options

    def runtime_env(self) -> str:
        """``runtime.env`` in the artifact: the install script sources it to find its Python."""
        major, minor = self.python_version
        return (
            f"{names.ENV_TARGET}={self.name}\n"
            f"{names.ENV_PYTHON_VERSION}={major}.{minor}\n"
            f"{names.ENV_IMAGE_PYTHON}={self.python}\n"
            f"{names.ENV_IMAGE_PYTHON_PACKAGE}={self.python_package}\n"
        )


def instance_target(architecture: str) -> Target:
    """The fleet's runtime for ``architecture`` (x86_64 or arm64)."""
    spec = runtime.spec(architecture)
    return Target(
        name=spec.architecture,
        python_version=runtime.PYTHON_VERSION,
        platforms=tuple(runtime.manylinux_platforms(spec.wheel_machine)),
        python=runtime.PYTHON_EXECUTABLE,
        python_package=runtime.PYTHON_PACKAGE,
        hash_checked=True,
    )


def host_target() -> Target:
    """This machine's interpreter: the platforms are the ones its own pip accepts."""
    platforms = tuple(dict.fromkeys(t.platform for t in sys_tags() if t.platform != "any"))
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return Target(
        name="host",
        python_version=(sys.version_info[0], sys.version_info[1]),
        platforms=platforms,
        python=str(base),
        python_package="",
        hash_checked=False,
    )
