"""What a WebSocket client sends, one pydantic model per action.

These models are the only declaration of a message's shape: ``shared.schema_export`` turns them
into the draft-04 JSON-schema models that API Gateway validates against, and the service
validates the same payload with the same model. They are strict (``1`` is not silently turned
into ``"1"``) because the gateway's JSON schema cannot coerce, and both sides must agree on what
is valid. Unknown extra fields are ignored on both sides (JSON schema's default), so a client
cannot smuggle a ``from`` field into a message: the model never reads it.

Patterns must mean the same to both sides. API Gateway reads a model's ``pattern`` as ECMA-262,
where ``$`` ends the input; pydantic's Rust engine agrees, Python's ``re`` does not (its ``$``
also matches before a final newline, so ``"room\n"`` would pass). The engine is therefore pinned
here, and ``shared.schema_export`` refuses the few constructs the two engines still read
differently (Unicode shorthands, ``.``, inline flags).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ROOM_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""Room names: 1-64 characters of ``[A-Za-z0-9_-]``, safe as a DynamoDB key and in log lines."""

MAX_MESSAGE_CHARS = 4096

RoomName = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ROOM_NAME_PATTERN, description="Room to join"),
]


class ClientMessage(BaseModel):
    """Base for every action a client can send; ``action`` selects the route."""

    model_config = ConfigDict(strict=True, extra="ignore", regex_engine="rust-regex")

    action: str


class JoinRoom(ClientMessage):
    """Join (or switch to) a chat room; the tutorial's ``joinroom`` route."""

    action: Literal["joinroom"]
    roomname: RoomName


class SendMessage(ClientMessage):
    """Send a message to the sender's current room; the tutorial's ``ChatAppMessage`` model."""

    action: Literal["sendmessage"]
    message: Annotated[
        str,
        Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="Text to send to the room"),
    ]


class ListRooms(ClientMessage):
    """Ask which rooms exist and how many are in each; answered to the sender only."""

    action: Literal["listrooms"]
