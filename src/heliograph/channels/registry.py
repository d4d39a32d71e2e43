"""The channels Heliograph talks to, by integration type (docs/channels.md); other types are stored only."""

from __future__ import annotations

from heliograph.channels.base import Adapter
from heliograph.channels.mailgun import Mailgun
from heliograph.channels.messenger import Instagram, Messenger
from heliograph.channels.telegram import Telegram
from heliograph.channels.twilio import Twilio
from heliograph.channels.whatsapp import WhatsApp

ADAPTERS: dict[str, Adapter] = {adapter.type: adapter for adapter in (
    Telegram(), Twilio(), WhatsApp(), Messenger(), Instagram(), Mailgun())}


def adapter(kind: str) -> Adapter | None:
    """The adapter of an integration type, or None for a type Heliograph only stores."""
    return ADAPTERS.get(kind)
