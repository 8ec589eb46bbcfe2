"""What to deploy where: ``[tool.wsgate]`` in pyproject.toml, overridden by command-line flags.

Region and profile resolve as the AWS CLI resolves them (flag, then config, then
``AWS_REGION``/``AWS_DEFAULT_REGION``, then the profile's ``region``), so ``wsgate deploy``
lands where ``aws cloudformation`` would.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.names import DEFAULT_STACK_NAME, DEFAULT_STAGE, REGION_PATTERN, StackNames
from wsgate.deploy.errors import ConfigError, NoRegionError

Architecture = Literal["x86_64", "arm64"]
DEFAULT_INSTANCE_TYPE: dict[str, str] = {"x86_64": "t3.micro", "arm64": "t4g.micro"}
LOCAL_SECTION = "local"
"""``[tool.wsgate.local]``: the defaults of ``wsgate local``'s flags, not a deploy setting."""
_GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+g")
"""Graviton (arm64) families carry a ``g`` after the generation: t4g, m7g, c6gn, r8g."""


def instance_architecture(instance_type: str) -> Architecture:
    """The CPU architecture an EC2 instance type runs (what the wheel must be built for)."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if _GRAVITON_FAMILY.match(family) else "x86_64"


class DeployConfig(BaseModel):
    """One deployment target. Keys are written kebab-case in TOML (``instance-type``)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        alias_generator=lambda name: name.replace("_", "-"),
    )

    stack: str = DEFAULT_STACK_NAME
    stage: str = DEFAULT_STAGE
    region: str | None = None
    profile: str | None = None
    bucket: str | None = None
    """Artifact bucket; default ``<stack>-artifacts-<account>-<region>`` (created if missing)."""
    instance_type: str | None = None
    architecture: Architecture = "x86_64"
    parameters: dict[str, str] = Field(default_factory=dict)
    """Extra CloudFormation parameters (e.g. ``FleetDesiredSize``, ``DomainName``)."""

    @model_validator(mode="after")
    def _consistent(self) -> DeployConfig:
        StackNames(self.stack, self.stage)  # raises ValueError with the naming rule
        if self.region is not None and not REGION_PATTERN.match(self.region):
            raise ValueError(f"region {self.region!r} is not an AWS region name (e.g. eu-west-1)")
        runs = instance_architecture(self.instance_type) if self.instance_type else None
        if runs is not None and runs != self.architecture:
            raise ValueError(
                f"instance type {self.instance_type} runs {runs} but architecture is "
                f"{self.architecture}: change one of them"
            )
        return self

    @property
    def names(self) -> StackNames:
        return StackNames(self.stack, self.stage)

    @property
    def effective_instance_type(self) -> str:
        return self.instance_type or DEFAULT_INSTANCE_TYPE[self.architecture]


def read_pyproject(path: Path) -> dict[str, Any]:
    """``[tool.wsgate]`` of ``path``; an absent file or table means all defaults."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    table = document.get("tool", {}).get("wsgate", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.wsgate] must be a table")
    return table


def load_config(
    pyproject: Path, overrides: Mapping[str, Any], parameters: Mapping[str, str] | None = None
) -> DeployConfig:
    """The file's settings with each non-None flag on top; ``--param`` adds to ``parameters``."""
    settings = read_pyproject(pyproject)
    settings.pop(LOCAL_SECTION, None)  # wsgate local's settings (wsgate/cli/config.py)
    settings = {key.replace("-", "_"): value for key, value in settings.items()}
    settings |= {key: value for key, value in overrides.items() if value is not None}
    if parameters:
        file_parameters = settings.get("parameters", {})
        if not isinstance(file_parameters, dict):
            raise ConfigError(f"{pyproject}: [tool.wsgate.parameters] must be a table")
        settings["parameters"] = {**file_parameters, **parameters}
    if isinstance(settings.get("parameters"), dict):
        settings["parameters"] = {k: str(v) for k, v in settings["parameters"].items()}
    try:
        return DeployConfig.model_validate(settings)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "[tool.wsgate]"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{pyproject} [tool.wsgate] / flags: {where}: {message}") from None


def resolve_region(
    config: DeployConfig, environ: Mapping[str, str], profile_region: str | None
) -> str:
    """The region as the AWS CLI picks it, with ``[tool.wsgate] region`` before the environment."""
    region = (
        config.region
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or profile_region
    )
    if not region:
        raise NoRegionError(
            "no AWS region: set region in [tool.wsgate], pass --region, or set AWS_REGION"
        )
    return region
