"""The channels' webhooks (docs/channels.md): one route shape for every channel, the one the spec documents
for LINE and MessageBird.

    POST /api/{type}/webhooks/{appId}/{integrationId}    what a person did on the channel (no credentials:
                                                         the channel's own proof, checked on the raw body)
    GET  /api/{type}/webhooks/{appId}/{integrationId}    the channel checks the webhook (Meta's verify token)
"""

from __future__ import annotations

from heliograph.api.http import FORM, JSON, PUBLIC, Call, Raw, Reply, Routes, exact_pattern, public_base
from heliograph.services import channels as service

routes = Routes(exact_pattern)  # Heliograph's own: the channels call it as they were told, never under /sc
WEBHOOK = "/api/{type}/webhooks/{appId}/{integrationId}"
MULTIPART_FORM = b"multipart/form-data"  # Mailgun's forwarded email with attachments: read whole, as the others


@routes("POST", WEBHOOK, "ChannelWebhook", PUBLIC, content_types=JSON | {FORM, MULTIPART_FORM}, large=True)
async def channel_webhook(call: Call) -> Reply:
    """POST /api/{type}/webhooks/{appId}/{integrationId}: the channel's request, taken in; answered as the
    channel expects (401 or 400 in the error envelope for a request that is not the channel's). Its body may be
    as large as an upload (50 MB): an email forwarded with its attachments."""
    answer = await service.receive(
        call.services.db, ids=call.services.ids, limit=call.services.settings.message_limit, kind=call.params["type"],
        app_id=call.params["appId"], integration_id=call.params["integrationId"], method="POST",
        url=_public_url(call), headers={k.decode("latin-1"): v.decode("latin-1") for k, v in call.headers.items()},
        query=dict(call.query), body=call.raw_body, media=service.MediaPlace(
            call.services.channels, call.services.settings.attachments_path, public_base(call),
            call.services.settings.max_upload_bytes))
    return answer.status, Raw(answer.body, answer.content_type)


def _public_url(call: Call) -> str:
    """The URL the channel was told to call, which some channels sign (Twilio): the one set up on create,
    under HELIOGRAPH_PUBLIC_URL if set, else the request's scheme and host (services/channels.create_integration)."""
    return public_base(call) + WEBHOOK.format(**{name: call.params[name] for name in ("type", "appId",
                                                                                       "integrationId")})


@routes("GET", WEBHOOK, "ChannelWebhookCheck", PUBLIC)
async def channel_webhook_check(call: Call) -> Reply:
    """GET /api/{type}/webhooks/{appId}/{integrationId}: the channel's check of the webhook, answered as it
    expects (Meta: the challenge, for the integration's verify token)."""
    answer = await service.handshake(call.services.db, kind=call.params["type"], app_id=call.params["appId"],
                                     integration_id=call.params["integrationId"], query=dict(call.query))
    return answer.status, Raw(answer.body, answer.content_type)
