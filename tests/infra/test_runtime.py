"""The instance runtime (infra/runtime.py) against pyproject and the two architectures."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from infra import runtime

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_image_python_satisfies_requires_python() -> None:
    requires = tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"]
    image_python = Version(".".join(map(str, runtime.PYTHON_VERSION)))
    assert SpecifierSet(requires).contains(image_python), (
        f"pyproject requires-python {requires} but instances run Python {image_python} "
        "(infra/runtime.py PYTHON_VERSION)"
    )
    assert runtime.PYTHON_EXECUTABLE.endswith(f"python{image_python}")
    assert f"python{image_python}" == runtime.PYTHON_PACKAGE


def test_each_architecture_has_its_own_ami_wheels_and_instance_types() -> None:
    assert set(runtime.SPECS) == {"x86_64", "arm64"}
    x86, arm = runtime.SPECS["x86_64"], runtime.SPECS["arm64"]
    assert x86.ami_parameter.endswith("al2023-ami-kernel-default-x86_64")
    assert arm.ami_parameter.endswith("al2023-ami-kernel-default-arm64")
    assert (x86.wheel_machine, arm.wheel_machine) == ("x86_64", "aarch64")
    assert set(x86.instance_types).isdisjoint(arm.instance_types)
    # Graviton families end in "g" (t4g, m7g, c8g...); no x86 family does.
    assert all(t.split(".")[0].endswith("g") for t in arm.instance_types)
    assert not any(t.split(".")[0].endswith("g") for t in x86.instance_types)


def test_instance_type_of_the_other_architecture_is_refused_with_the_fix() -> None:
    runtime.check_instance_type("arm64", "t4g.small")
    runtime.check_instance_type("x86_64", "t3.micro")
    with pytest.raises(runtime.InstanceTypeMismatch, match="InstanceArchitecture=x86_64"):
        runtime.check_instance_type("arm64", "t3.micro")
    with pytest.raises(runtime.InstanceTypeMismatch, match="not offered for x86_64"):
        runtime.check_instance_type("x86_64", "p5.48xlarge")
    with pytest.raises(ValueError, match="choose one of x86_64, arm64"):
        runtime.check_instance_type("sparc", "t3.micro")


def test_manylinux_platforms_cover_every_glibc_up_to_the_image_and_the_legacy_aliases() -> None:
    tags = runtime.manylinux_platforms("aarch64")
    assert tags[0] == "manylinux_2_34_aarch64"
    assert "manylinux_2_17_aarch64" in tags and "manylinux_2_35_aarch64" not in tags
    assert {"manylinux2014_aarch64", "manylinux1_aarch64"} <= set(tags)
    assert len(tags) == 34 - 5 + 1 + 3
    with pytest.raises(ValueError):
        runtime.manylinux_platforms("x86_64", glibc=(2, 4))
