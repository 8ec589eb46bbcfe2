"""The service artifact: its lock, what its wheelhouse holds for the instance, its name."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from infra import runtime
from wsgate.artifact import Artifact, build_artifact
from wsgate.artifact import wheelhouse as wheelhouse_module
from wsgate.artifact.build import build_for
from wsgate.artifact.lock import (
    BOOTSTRAP,
    LockError,
    Pin,
    merge,
    parse,
    pins_from_report,
    read_lock,
    render,
    service_requirements,
    unmet,
)
from wsgate.artifact.target import instance_target
from wsgate.artifact.wheelhouse import WheelhouseError, check, target_tags
from wsgate.cli.main import COMMANDS

PROJECT = Path(__file__).resolve().parents[2]
NEVER_ON_AN_INSTANCE = {"moto", "chalice", "troposphere", "awacs", "pytest", "cfn-lint", "boto3"}


def _needed_by_the_service(locked: set[str]) -> set[str]:
    """Locked packages some other locked package requires (read from the installed metadata)."""
    needed = set()
    for name in locked:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or "extra" not in str(requirement.marker):
                needed.add(str(canonicalize_name(requirement.name)))
    return needed


def _other_roles() -> set[str]:
    """What only other roles bring: their direct requirements, minus the service's own, minus
    packages a locked package depends on (sanic needs websockets, which the local role also
    lists), minus the bootstrap pip."""
    extras = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {
        str(canonicalize_name(Requirement(line).name))
        for extra, lines in extras.items()
        if extra != "service"
        for line in lines
    }
    service = {str(canonicalize_name(r.name)) for r in service_requirements()}
    locked = {p.name for p in read_lock()}
    return names - service - _needed_by_the_service(locked) - set(BOOTSTRAP) - {"wsgate"}


def test_lock_satisfies_the_service_extra_and_nothing_else_gets_in() -> None:
    pins = read_lock()
    assert unmet(service_requirements(), pins) == []
    locked = {p.name for p in pins}
    assert locked.isdisjoint(_other_roles()), locked & _other_roles()
    assert locked.isdisjoint(NEVER_ON_AN_INSTANCE)
    assert "pip" in locked  # the venv is created without pip and gets it from the wheelhouse


def test_base_dependencies_are_only_what_every_role_needs() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert [Requirement(d).name for d in project["dependencies"]] == ["pydantic"]
    dev = {
        Requirement(line).name: Requirement(line)
        for line in project["optional-dependencies"]["dev"]
    }
    assert dev["wsgate"].extras == {"service", "lambda", "infra", "local"}


def test_unmet_and_parse_say_what_is_wrong() -> None:
    pins = [Pin("sanic", "25.12.1")]
    assert unmet([Requirement("sanic>=26")], pins) == ["sanic>=26 but the lock has sanic==25.12.1"]
    assert unmet([Requirement("aiohttp")], pins) == ["aiohttp is not in the lock"]
    assert parse("# c\nPyYAML==6.0 \\\n    --hash=sha256:ab\n") == [Pin("pyyaml", "6.0")]
    assert parse("PyYAML==6.0 \\\n    --hash=sha256:ab\n")[0].hashes == ("ab",)
    with pytest.raises(LockError, match="expected name==version"):
        parse("sanic>=24\n")
    with pytest.raises(LockError, match="line 1"):
        parse("sanic==25.12.1 --hash=md5:00\n")


def test_every_pin_carries_the_hashes_of_both_architectures_wheels() -> None:
    pins = read_lock()
    assert all(p.hashes for p in pins)
    # Compiled packages have one wheel per architecture, pure ones a single shared wheel.
    assert len(next(p for p in pins if p.name == "pydantic-core").hashes) == 2
    assert len(next(p for p in pins if p.name == "sanic").hashes) == 1
    assert parse(render(pins, ["x86_64", "arm64"])) == pins
    assert [p.hashes for p in parse(render(pins, ["x86_64"]))] == [p.hashes for p in pins]


def test_architectures_that_resolve_differently_cannot_share_a_lock() -> None:
    x86 = [Pin("sanic", "25.12.1", ("a",)), Pin("uvloop", "0.23.0", ("b",))]
    arm = [Pin("sanic", "25.12.1", ("a",)), Pin("uvloop", "0.23.0", ("c",))]
    assert merge({"x86_64": x86, "arm64": arm}) == x86
    assert merge({"x86_64": x86, "arm64": arm})[1].hashes == ("b", "c")
    with pytest.raises(LockError, match="x86_64 and arm64 resolve differently"):
        merge({"x86_64": x86, "arm64": [Pin("sanic", "25.12.1")]})


def test_pins_from_a_pip_report_leave_out_the_project() -> None:
    report = {
        "install": [
            {
                "metadata": {"name": "Sanic", "version": "25.12.1"},
                "download_info": {"archive_info": {"hashes": {"sha256": "ab"}}},
            },
            {"metadata": {"name": "wsgate", "version": "0.1.0"}},
        ]
    }
    assert pins_from_report(report) == [Pin("sanic", "25.12.1")]
    assert pins_from_report(report)[0].hashes == ("ab",)


def test_a_wheel_not_matching_the_lock_hash_fails_the_instance_build(tmp_path: Path) -> None:
    offline = PROJECT / "build" / "wheelhouse" / "x86_64"
    if not any(offline.glob("*.whl")):
        pytest.skip(f"{offline} is empty: `make wheelhouses` (part of `make test`) downloads it")
    pins = read_lock()
    tampered = [Pin(p.name, p.version, ("0" * 64,)) if p.name == "sanic" else p for p in pins]
    lock = tmp_path / "service.lock"
    lock.write_text(render(tampered, ["x86_64"]))
    with pytest.raises(WheelhouseError, match="DO NOT MATCH THE HASHES"):
        build_for(instance_target("x86_64"), tmp_path / "out", find_links=offline, lock=lock)


def _members(artifact: Artifact) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(artifact.path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_instance_artifact_holds_only_cp312_manylinux_wheels_of_the_lock(
    x86_64_artifact: Artifact,
) -> None:
    members = _members(x86_64_artifact)
    top = {name.split("/", 1)[1] for name in members if name.count("/") == 1}
    assert top == {"install.sh", "wsgate.service", "runtime.env", "manifest.json"}
    assert members["wsgate-service/install.sh"].mode == 0o755
    wheels = [Path(n).name for n in members if n.startswith("wsgate-service/wheelhouse/")]
    names = {str(parse_wheel_filename(w)[0]) for w in wheels}
    assert names == {p.name for p in read_lock()} | {"wsgate"}
    assert names.isdisjoint(_other_roles() | NEVER_ON_AN_INSTANCE)
    accepted = target_tags(instance_target("x86_64"))
    for wheel in wheels:
        assert parse_wheel_filename(wheel)[3] & accepted, wheel
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled and all("-cp312-" in w and "x86_64" in w for w in compiled), compiled
    with tarfile.open(x86_64_artifact.path) as tar:
        runtime_env = tar.extractfile("wsgate-service/runtime.env").read().decode()  # type: ignore[union-attr]
        manifest = json.load(tar.extractfile("wsgate-service/manifest.json"))  # type: ignore[arg-type]
    assert f"WSGATE_IMAGE_PYTHON={runtime.PYTHON_EXECUTABLE}" in runtime_env.splitlines()
    assert manifest["python"] == "3.12" and sorted(manifest["wheels"]) == sorted(wheels)


def test_name_and_key_carry_the_content_hash(x86_64_artifact: Artifact) -> None:
    digest = hashlib.sha256(x86_64_artifact.path.read_bytes()).hexdigest()
    assert x86_64_artifact.sha256 == digest
    assert x86_64_artifact.key == f"artifacts/{x86_64_artifact.path.name}"
    assert re.fullmatch(
        rf"artifacts/wsgate-service-0\.1\.0-{digest[:12]}\.tar\.gz", x86_64_artifact.key
    )
    assert x86_64_artifact.architecture == "x86_64"


def test_same_tree_same_bytes(x86_64_artifact: Artifact, tmp_path: Path) -> None:
    """Reproducible: rebuilding does not roll the fleet; only a content change does."""
    again = build_for(
        instance_target("x86_64"),
        tmp_path,
        find_links=PROJECT / "build" / "wheelhouse" / "x86_64",
    )
    assert again.sha256 == x86_64_artifact.sha256


def test_a_wheel_the_instance_cannot_load_fails_the_build(tmp_path: Path) -> None:
    """The host's cp311 wheels offered for the cp312 target: pip finds nothing it may use."""
    host = PROJECT / "build" / "wheelhouse" / "host"
    if not any(host.glob("*.whl")):
        pytest.skip(f"{host} is empty: `make wheelhouses` (part of `make test`) downloads it")
    with pytest.raises(Exception, match="downloading the x86_64 wheelhouse failed"):
        build_for(instance_target("x86_64"), tmp_path, find_links=host)


def test_public_interface_and_cli_registration() -> None:
    assert build_artifact.__kwdefaults__ == {"architecture": "x86_64"}
    assert "build" in COMMANDS
    result = CliRunner().invoke(
        __import__("wsgate.cli.build", fromlist=["build"]).build,
        ["--architecture", "sparc"],
    )
    assert result.exit_code == 2 and "sparc" in result.output


def test_instance_targets_pin_the_image_python_and_manylinux_platforms() -> None:
    """Without these options pip would pick wheels for the build machine (its Python, its
    newer glibc, its CPU), which the instance cannot load."""
    for architecture, machine in (("x86_64", "x86_64"), ("arm64", "aarch64")):
        options = instance_target(architecture).pip_options
        assert options[:5] == [
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "312",
        ]
        platforms = {options[i + 1] for i, o in enumerate(options) if o == "--platform"}
        assert platforms == set(runtime.manylinux_platforms(machine))


def test_check_names_each_wheel_the_target_cannot_load(tmp_path: Path) -> None:
    wheels = [
        "sanic-25.12.1-py3-none-any.whl",
        "ujson-6.1.0-cp312-cp312-manylinux_2_35_x86_64.whl",  # glibc newer than AL2023's
        "httptools-0.9.0-cp311-cp311-manylinux_2_17_x86_64.whl",  # the build machine's Python
        "uvloop-0.23.0-cp312-cp312-manylinux_2_17_aarch64.whl",  # the other architecture
        "moto-5.2.5-py3-none-any.whl",
    ]
    for wheel in wheels:
        (tmp_path / wheel).write_bytes(b"")
    pins = [Pin("sanic", "25.12.1"), Pin("ujson", "6.1.0"), Pin("httptools", "0.9.0")]
    pins += [Pin("uvloop", "0.23.0"), Pin("wrapt", "2.5.2")]
    assert check(tmp_path, pins, instance_target("x86_64")) == [
        f"{wheels[2]} does not load on x86_64",
        f"{wheels[1]} does not load on x86_64",
        f"{wheels[3]} does not load on x86_64",
        "wrapt==2.5.2 is not in the wheelhouse",
        "not in the lock: ['moto']",
    ]


def test_build_refuses_a_wheelhouse_the_target_cannot_install_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def download_host_wheel(pins: object, target: object, wheelhouse: Path, *_: object) -> None:
        for pin in read_lock():
            (
                wheelhouse
                / f"{pin.name.replace('-', '_')}-{pin.version}-cp311-cp311-linux_x86_64.whl"
            ).write_bytes(b"")

    monkeypatch.setattr(wheelhouse_module, "download", download_host_wheel)
    with pytest.raises(WheelhouseError, match="does not load on x86_64"):
        build_for(instance_target("x86_64"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
