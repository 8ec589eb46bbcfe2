"""Service configuration from ``WSGATE_*`` environment variables (the systemd EnvironmentFile)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.connections_api import DEFAULT_CONCURRENCY
from shared.connections_table import DEFAULT_TABLE_NAME


class ServiceSettings(BaseSettings):
    """Everything the service reads from its environment; AWS credentials come from the usual
    provider chain (the instance profile on EC2)."""

    model_config = SettingsConfigDict(env_prefix="WSGATE_", extra="ignore")

    table_name: str = DEFAULT_TABLE_NAME
    """Used when an integration request carries no ``tableName`` stage variable."""
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    """A DynamoDB-compatible endpoint (moto's server, DynamoDB Local); None means AWS."""
    connections_endpoint: str | None = None
    """Override of the ``@connections`` endpoint (a local gateway's ``http://host:port/stage``);
    None builds the execute-api URL from each request's api id, region and stage."""
    fanout_concurrency: int = DEFAULT_CONCURRENCY
    log_level: str = "INFO"
