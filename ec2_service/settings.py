"""Service configuration from ``WSGATE_*`` environment variables (the systemd EnvironmentFile).

The stack writes these once per instance; they, not any field of a request body, decide which
table the service uses and which ``@connections`` endpoint it signs requests for. Every variable
name comes from ``shared.names`` so the template, ``wsgate local`` and the service cannot drift.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import names
from shared.connections_api import DEFAULT_CONCURRENCY
from shared.connections_table import DEFAULT_TABLE_NAME


class SettingsError(RuntimeError):
    """The service's environment is wrong; the message names the variable to fix."""


def _env(name: str) -> Any:
    """The field reads exactly ``name`` from the environment; tests may pass the field name."""
    return Field(validation_alias=name)


def _matches(pattern: re.Pattern[str], what: str, value: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not a valid {what} (expected {pattern.pattern})")
    return value


class ServiceSettings(BaseSettings):
    """Everything the service reads from its environment; AWS credentials come from the usual
    provider chain (the instance profile on EC2)."""

    model_config = SettingsConfigDict(
        env_prefix=names.ENV_PREFIX, extra="forbid", populate_by_name=True
    )

    api_id: Annotated[str, _env(names.ENV_API_ID)]
    """The WebSocket API this fleet serves: the ``@connections`` host, and what every
    integration request's ``apiId`` must equal."""
    stage: Annotated[str, _env(names.ENV_STAGE)] = names.DEFAULT_STAGE
    region: Annotated[str, _env(names.ENV_REGION)] = "us-east-1"
    table_name: Annotated[str, _env(names.ENV_TABLE_NAME)] = DEFAULT_TABLE_NAME
    dynamodb_endpoint: Annotated[str | None, _env(names.ENV_DYNAMODB_ENDPOINT)] = None
    """A DynamoDB-compatible endpoint (moto's server, DynamoDB Local); None means AWS."""
    connections_endpoint: Annotated[str | None, _env(names.ENV_CONNECTIONS_ENDPOINT)] = None
    """Override of the ``@connections`` endpoint (a local gateway's ``http://host:port/stage``);
    None means the execute-api URL of ``api_id`` in ``region`` and ``stage``."""
    integration_secret: Annotated[SecretStr | None, _env(names.ENV_INTEGRATION_SECRET)] = None
    """The caller secret itself (tests); deployed services read it by id instead."""
    integration_secret_id: Annotated[str | None, _env(names.ENV_INTEGRATION_SECRET_ID)] = None
    """Name or ARN of the Secrets Manager secret holding the caller secret."""
    integration_secret_refresh_s: Annotated[
        float, _env(names.ENV_INTEGRATION_SECRET_REFRESH_S), Field(gt=0)
    ] = 300.0
    fanout_concurrency: Annotated[int, _env(names.ENV_FANOUT_CONCURRENCY), Field(ge=1)] = (
        DEFAULT_CONCURRENCY
    )
    log_level: Annotated[str, _env(names.ENV_LOG_LEVEL)] = "INFO"

    @field_validator("api_id")
    @classmethod
    def _api_id(cls, value: str) -> str:
        return _matches(names.API_ID_PATTERN, "API id", value)

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return _matches(names.STAGE_NAME_PATTERN, "stage name", value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _matches(names.REGION_PATTERN, "region", value)

    @field_validator("table_name")
    @classmethod
    def _table(cls, value: str) -> str:
        return _matches(names.TABLE_NAME_PATTERN, "DynamoDB table name", value)

    @model_validator(mode="after")
    def _one_secret_source(self) -> ServiceSettings:
        if (self.integration_secret is None) == (self.integration_secret_id is None):
            raise ValueError(
                f"set exactly one of {names.ENV_INTEGRATION_SECRET_ID} (deployed) or "
                f"{names.ENV_INTEGRATION_SECRET} (tests): the service only answers API Gateway"
            )
        return self


def service_env_names() -> frozenset[str]:
    """The variables :class:`ServiceSettings` reads (its fields' aliases)."""
    return frozenset(str(info.validation_alias) for info in ServiceSettings.model_fields.values())


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``WSGATE_*`` variables no wsgate process reads: misspellings pydantic-settings ignores.

    Names other wsgate processes read (the CLI's token secret...) are not errors: one shell
    environment often serves ``wsgate local`` and the CLI alike.
    """
    known = names.env_names()
    return sorted(k for k in environ if k.startswith(names.ENV_PREFIX) and k not in known)


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    """The settings from the environment, or a :class:`SettingsError` naming what is wrong."""
    environ = os.environ if environ is None else environ
    unknown = unknown_variables(environ)
    if unknown:
        raise SettingsError(
            f"unknown setting {', '.join(unknown)}: the service reads "
            f"{', '.join(sorted(service_env_names()))}"
        )
    wanted = service_env_names()
    values = {k: v for k, v in environ.items() if k in wanted}
    try:
        return ServiceSettings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False)
        )
        raise SettingsError(f"invalid service settings: {problems}") from None
