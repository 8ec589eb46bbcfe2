"""The ops Lambda's actions.

The SSM parameters through which it finds the stack are named in ``shared.names``
(``StackNames``), with every other name the template and the Lambdas share.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from shared.client_messages import MAX_MESSAGE_CHARS, RoomName


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Broadcast(_Action):
    """Push an announcement to every connection, or to one room."""

    action: Literal["broadcast"]
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    room: RoomName | None = None


class Prune(_Action):
    """Delete records past ``expiresAt`` or whose connection API Gateway says is gone."""

    action: Literal["prune"]


class Kick(_Action):
    """Close one connection from the server side and forget it."""

    action: Literal["kick"]
    connectionId: Annotated[str, Field(min_length=1, max_length=128)]


class IssueApiKey(_Action):
    """Create an API key in the usage plan and return its value (once)."""

    action: Literal["issue_api_key"]
    name: Annotated[str, Field(min_length=1, max_length=1024)]


class Usage(_Action):
    """The usage plan's consumption per key and day (the tutorial's ``get-usage``)."""

    action: Literal["usage"]
    startDate: datetime.date
    endDate: datetime.date
    keyId: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Usage:
        if self.endDate < self.startDate:
            raise ValueError("endDate must not be before startDate")
        return self


OpsAction = Annotated[Broadcast | Prune | Kick | IssueApiKey | Usage, Field(discriminator="action")]
OPS_ACTION = TypeAdapter(OpsAction)
"""``OPS_ACTION.validate_python(event)`` parses an ops event or raises ``ValidationError``."""
