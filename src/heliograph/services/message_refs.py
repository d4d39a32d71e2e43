"""DownloadMessageRef and PostConversionEvents: relays to Apple and Meta, which Heliograph does not reach.

Each checks everything Heliograph can know (the body, the conversation, the user, that the app has
an integration of the channel) and then answers 502 bad_gateway: the answer itself would come from
Apple Messages for Business or Meta's Conversions API, and Heliograph talks to neither. Never a
pretend success: a caller must not believe a ref was downloaded or an event counted.
"""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadGateway, BadRequest, UserNotFound
from heliograph.schemas.common import UNSET
from heliograph.schemas.message_refs import CONVERSION_CHANNELS, ConversionEventsBody, DownloadMessageRefBody
from heliograph.store.conversations import require_conversation
from heliograph.store.integrations import has_integration
from heliograph.store.users import find_user

UPSTREAMS = {"apple": "Apple Messages for Business", "messenger": "Meta's Conversions API",
             "instagram": "Meta's Conversions API", "whatsapp": "Meta's Conversions API"}


async def download_message_ref(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                               body: DownloadMessageRefBody) -> NoReturn:
    if body.apple is UNSET:
        raise BadRequest("Missing required field `apple`: only the apple channel is supported")
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    if await find_user(conn, app_id=app_id, user_id=body.user_id) is None:
        raise UserNotFound()
    await _unreachable(conn, app_id, "apple", "download the message ref")


async def post_conversion_events(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                                 body: ConversionEventsBody) -> NoReturn:
    channels = body.channels()
    if len(channels) != 1:
        raise BadRequest(f"Exactly one of {', '.join(CONVERSION_CHANNELS)} is required")
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    await _unreachable(conn, app_id, channels[0], "send the conversion events")


async def _unreachable(conn: AsyncConnection, app_id: str, channel: str, action: str) -> NoReturn:
    """400 when the app has no integration of the channel; otherwise 502: the upstream is out of reach."""
    if not await has_integration(conn, app_id=app_id, integration_type=channel):
        raise BadRequest(f"The app has no {channel} integration")
    raise BadGateway(f"Cannot {action}: this Heliograph server does not connect to {UPSTREAMS[channel]}")
