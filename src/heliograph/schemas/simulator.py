"""The channel simulator's request bodies (docs/channels.md, the simulator): Heliograph's own, not the spec's."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from heliograph.schemas.common import UNSET, Struct, UnsetType
from heliograph.schemas.messages import Coordinates

Word = Annotated[str, Meta(min_length=1, max_length=128)]


class SimulatedPerson(Struct):
    # their id on the channel: a number, E.164, or an email address (Mailgun)
    id: Annotated[str, Meta(pattern=r"^(\+?[1-9][0-9]{0,14}|[^@\s]{1,64}@[^@\s]{1,190})$")]
    given_name: Word | UnsetType = UNSET
    surname: Word | UnsetType = UNSET


class SimulatedWrite(Struct):
    """What a person does on the channel: writes a text, shares a location, or presses a button (its data, as
    the outbox shows it); exactly one of the three."""

    from_: SimulatedPerson = msgspec.field(name="from")
    text: Annotated[str, Meta(min_length=1, max_length=4096)] | UnsetType = UNSET
    location: Coordinates | UnsetType = UNSET
    postback: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET


class SimulatedFault(Struct):
    """The channel's API fails the next calls of a method (`sendMessage`, …) with `status`."""

    method: Annotated[str, Meta(pattern=r"^[A-Za-z]{1,64}$")]
    status: Annotated[int, Meta(ge=400, le=599)]
    retry_after: Annotated[int, Meta(ge=1, le=3600)] | UnsetType = UNSET
    times: Annotated[int, Meta(ge=1, le=100)] = 1


class SimulatedReceipt(Struct):
    """The channel reports on a message sent (its id, as the outbox shows it): delivered, read, or not."""

    message_id: Annotated[str, Meta(min_length=1, max_length=255)]
    status: Literal["delivered", "read", "undelivered", "failed"]
    error_code: Annotated[str, Meta(pattern=r"^[0-9]{1,8}$")] | UnsetType = UNSET
