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
    """Delete records past ``expiresAt`` or whose connection API Gateway says is gone.

    A run stops before the Lambda's deadline; ``resume`` (the token the previous run returned)
    continues where it stopped. ``persistResume`` keeps that token in SSM instead, for the
    schedule, whose events carry no state from one run to the next.
    """

    action: Literal["prune"]
    resume: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    persistResume: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Prune:
        if self.resume is not None and self.persistResume:
            raise ValueError("pass either resume or persistResume, not both")
        return self


class Kick(_Action):
    """Close one connection from the server side and forget it."""

    action: Literal["kick"]
    connectionId: Annotated[str, Field(min_length=1, max_length=128)]


class IssueApiKey(_Action):
    """The API key of one user (``user``) or a named key (``name``) in the usage plan.

    Idempotent: an existing key of that name is returned, not duplicated, so the token-minting
    path can call it at every login and each user keeps one key (and one quota).
    """

    action: Literal["issue_api_key"]
    name: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    user: Annotated[str, Field(min_length=1, max_length=256)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> IssueApiKey:
        if (self.name is None) == (self.user is None):
            raise ValueError("pass exactly one of name (a named key) or user (a user's key)")
        return self


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _month_start() -> datetime.date:
    return _today().replace(day=1)


class Usage(_Action):
    """The usage plan's consumption per key and day (the tutorial's ``get-usage``).

    Without dates it covers the current calendar month (UTC) up to today: the period of the
    template's monthly quota.
    """

    action: Literal["usage"]
    startDate: datetime.date = Field(default_factory=_month_start)
    endDate: datetime.date = Field(default_factory=_today)
    keyId: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Usage:
        if self.endDate < self.startDate:
            raise ValueError("endDate must not be before startDate")
        return self


OpsAction = Annotated[Broadcast | Prune | Kick | IssueApiKey | Usage, Field(discriminator="action")]
OPS_ACTION = TypeAdapter(OpsAction)
"""``OPS_ACTION.validate_python(event)`` parses an ops event or raises ``ValidationError``."""
