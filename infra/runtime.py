"""The instance runtime: which image the fleet boots, which Python runs the service on it, and
which wheels that Python can load, per CPU architecture.

The artifact builder (``wsgate build``) and the launch template both read this module, so the
wheelhouse inside the artifact is always built for the interpreter the instance will run it
with. Amazon Linux 2023 is the image: it ships the AWS CLI (used to fetch the artifact and to
signal CloudFormation), keeps ``/usr/bin/python3`` at 3.9 for the OS, and packages newer
interpreters as ``python3.12`` from its own repositories (reached through the S3 gateway
endpoint, see ``infra/network.py``), so nothing is installed from the internet at boot.
Sources: https://docs.aws.amazon.com/linux/al2023/ug/python.html (Python versions on AL2023),
https://docs.aws.amazon.com/linux/al2023/ug/ec2.html (the public SSM AMI parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Architecture = Literal["x86_64", "arm64"]
ARCHITECTURES: tuple[Architecture, ...] = get_args(Architecture)

PYTHON_VERSION = (3, 12)
"""The interpreter the service runs with on the instance (``dnf install python3.12``)."""
PYTHON_PACKAGE = "python3.12"
PYTHON_EXECUTABLE = "/usr/bin/python3.12"
GLIBC = (2, 34)
"""AL2023's glibc: the newest ``manylinux_2_N`` wheel tag the image can load."""
OLDEST_MANYLINUX_GLIBC = (2, 5)
"""``manylinux1``: the oldest glibc a manylinux wheel may require."""


@dataclass(frozen=True)
class ArchitectureSpec:
    """Everything that differs between x86_64 and Graviton instances."""

    architecture: Architecture
    ami_parameter: str
    """The public SSM parameter holding the latest AL2023 AMI id for this architecture."""
    wheel_machine: str
    """The machine part of manylinux wheel tags (``aarch64`` for Graviton)."""
    instance_types: tuple[str, ...]
    """Instance types offered by the template's ``InstanceType`` parameter for it."""


SPECS: dict[Architecture, ArchitectureSpec] = {
    "x86_64": ArchitectureSpec(
        architecture="x86_64",
        ami_parameter="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        wheel_machine="x86_64",
        instance_types=(
            "t3.micro",
            "t3.small",
            "t3.medium",
            "t3.large",
            "m6i.large",
            "m6i.xlarge",
            "m7i.large",
            "m7i.xlarge",
            "c6i.large",
            "c6i.xlarge",
            "c7i.large",
            "c7i.xlarge",
        ),
    ),
    "arm64": ArchitectureSpec(
        architecture="arm64",
        ami_parameter="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        wheel_machine="aarch64",
        instance_types=(
            "t4g.micro",
            "t4g.small",
            "t4g.medium",
            "t4g.large",
            "m7g.large",
            "m7g.xlarge",
            "m8g.large",
            "m8g.xlarge",
            "c7g.large",
            "c7g.xlarge",
            "c8g.large",
            "c8g.xlarge",
        ),
    ),
}

ROOT_DEVICE = "/dev/xvda"
"""AL2023's root volume device name (the launch template encrypts it)."""

DEFAULT_ARCHITECTURE: Architecture = "x86_64"
DEFAULT_INSTANCE_TYPE = "t3.micro"


class InstanceTypeMismatch(ValueError):
    """An instance type that cannot boot the image of the chosen architecture."""


def spec(architecture: str) -> ArchitectureSpec:
    """The spec of ``architecture``, with the accepted values in the error otherwise."""
    if architecture not in SPECS:
        raise ValueError(f"architecture {architecture!r}: choose one of {', '.join(ARCHITECTURES)}")
    return SPECS[architecture]


def check_instance_type(architecture: str, instance_type: str) -> None:
    """Refuse an instance type of the other architecture before CloudFormation does.

    The template enforces the same pairs with a Rule; this is for ``wsgate deploy`` to fail
    before uploading anything.
    """
    wanted = spec(architecture)
    if instance_type in wanted.instance_types:
        return
    owner = next((s for s in SPECS.values() if instance_type in s.instance_types), None)
    if owner is not None:
        raise InstanceTypeMismatch(
            f"instance type {instance_type} is {owner.architecture}, but the fleet boots the "
            f"{architecture} image: pick one of {', '.join(wanted.instance_types)} or set "
            f"InstanceArchitecture={owner.architecture}"
        )
    raise InstanceTypeMismatch(
        f"instance type {instance_type} is not offered for {architecture}: pick one of "
        f"{', '.join(wanted.instance_types)} (or add it to infra/runtime.py)"
    )


def python_tag(version: tuple[int, int] = PYTHON_VERSION) -> str:
    """``3.12`` -> ``312``: the form ``pip --python-version`` and wheel tags (cp312) use."""
    return f"{version[0]}{version[1]}"


def manylinux_platforms(
    machine: str, glibc: tuple[int, int] = GLIBC, oldest: tuple[int, int] = OLDEST_MANYLINUX_GLIBC
) -> list[str]:
    """Every manylinux platform tag a glibc ``glibc`` system on ``machine`` loads, newest first.

    pip does not expand ``manylinux_2_34`` to the older tags on its own (it only expands the
    legacy ``manylinux2014`` alias), so ``pip download --platform`` gets each one; the legacy
    aliases (``manylinux1`` = 2.5, ``manylinux2014`` = 2.17) are the same tags to pip.
    """
    if glibc[0] != 2 or oldest[0] != 2 or glibc < oldest:
        raise ValueError(f"glibc {glibc} is not a manylinux glibc at or above {oldest}")
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(glibc[1], oldest[1] - 1, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    return tags + [
        f"{alias}_{machine}" for minor, alias in legacy.items() if oldest[1] <= minor <= glibc[1]
    ]
