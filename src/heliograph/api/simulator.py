"""The channel simulator's endpoints (docs/channels.md, the simulator): Heliograph's own, with the account key,
served only when HELIOGRAPH_CHANNELS=simulate.

    POST /_heliograph/sim/integrations/{integrationId}/messages   a person writes (or presses a button) on the
                                                                  integration's channel: the channel's request,
                                                                  signed, through the real inbound route
    POST /_heliograph/sim/integrations/{integrationId}/receipts   the channel reports on a message sent
    GET  /_heliograph/sim/integrations/{integrationId}/outbox     what Heliograph sent to that channel
    POST /_heliograph/sim/integrations/{integrationId}/faults     the channel's API fails its next calls
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from heliograph.api.http import ACCOUNT, Call, Reply, Routes, exact_pattern
from heliograph.errors import BadRequest, NotFound
from heliograph.schemas.common import UNSET
from heliograph.schemas.simulator import SimulatedFault, SimulatedReceipt, SimulatedWrite
from heliograph.services import channels
from heliograph.simulator import mailgun, messenger, telegram, twilio, whatsapp
from heliograph.simulator.app import Fakes
from heliograph.simulator.base import Delivery
from heliograph.simulator.mailgun import FakeMailgun
from heliograph.simulator.messenger import FakeMessenger
from heliograph.simulator.telegram import FakeTelegram
from heliograph.simulator.twilio import FakeTwilio
from heliograph.simulator.whatsapp import FakeWhatsApp

routes = Routes(exact_pattern)
SIM = "/_heliograph/sim/integrations/{integrationId}"
OFF = "The channel simulator is off: start the server with HELIOGRAPH_CHANNELS=simulate"


@routes("POST", SIM + "/messages", "SimulatorWrite", ACCOUNT)
async def write(call: Call) -> Reply:
    """A person's action on the channel, made into the channel's own request, signed as the channel signs it and
    POSTed to the inbound URL the integration gave the channel; the request and the server's answer to it."""
    fakes, integration = await _simulated(call)
    body = call.body(SimulatedWrite)
    given = [name for name in ("text", "location", "postback") if getattr(body, name) is not UNSET]
    if len(given) != 1:
        raise BadRequest("One of text, location or postback is required, and only one")
    email = "@" in body.from_.id
    if email != (integration["type"] == "mailgun"):
        raise BadRequest("from.id: an email address on mailgun, and only there" if email else
                         "from.id: a mailgun person is an email address")
    writes = {"telegram": _telegram_write, "twilio": _twilio_write, "whatsapp": _whatsapp_write,
              "messenger": _page_write, "instagram": _page_write, "mailgun": _mailgun_write}
    try:
        delivery = writes[integration["type"]](fakes, integration, body)
    except LookupError as error:
        raise BadRequest(f"The integration's channel has no webhook: {error}") from None
    return 200, await _post(delivery)


@routes("POST", SIM + "/receipts", "SimulatorReceipt", ACCOUNT)
async def receipt(call: Call) -> Reply:
    """The channel's report on a message it was sent (`messageId` as the outbox shows it), signed and POSTed
    where the channel would post it; the request and the server's answer. Twilio and WhatsApp (Telegram has
    no receipts)."""
    fakes, integration = await _simulated(call)
    body = call.body(SimulatedReceipt)
    if integration["type"] == "telegram" or (integration["type"] == "instagram" and body.status != "read"):
        raise BadRequest(f"{integration['type']} reports no deliveries to a bot" + (
            ": only `read` (seen)" if integration["type"] == "instagram" else ""))
    config, code = integration["config"], None if body.error_code is UNSET else body.error_code
    if integration["type"] == "mailgun":
        if body.status == "read":
            raise BadRequest("Mailgun reports no reads: `delivered`, `failed` or `undelivered`")
        emailed = next((one for one in fakes.mailgun.sent_by(str(config["domain"])) if one.message_id ==
                        body.message_id), None)
        if emailed is None:
            raise NotFound(f"No message {body.message_id} was sent through this integration")
        key = str(config.get("signingKey") or config.get("apiKey"))
        return 200, await _post(_built(lambda: fakes.mailgun.event(
            emailed, "delivered" if body.status == "delivered" else "failed", signing_key=key)))
    if integration["type"] in ("messenger", "instagram"):
        if body.status not in ("delivered", "read"):
            raise BadRequest(f"{integration['type']}'s failures are not simulated: `delivered` or `read`")
        page: FakeMessenger = getattr(fakes, integration["type"])
        delivered = next((one for one in page.sent_by(str(config["pageId"]))
                          if one.message_id == body.message_id), None)
        if delivered is None:
            raise NotFound(f"No message {body.message_id} was sent through this integration")
        if body.status == "read":
            reader = str((delivered.body.get("recipient") or {}).get("id"))
            return 200, await _post(_built(lambda: page.read(str(config["pageId"]), str(config["appId"]),
                                                             sender=reader)))
        return 200, await _post(_built(lambda: page.delivery(delivered, str(config["appId"]))))
    fake = fakes.twilio if integration["type"] == "twilio" else fakes.whatsapp
    owner = config["accountSid"] if integration["type"] == "twilio" else config["phoneNumberId"]
    sent = next((one for one in fake.sent_by(owner) if one.message_id == body.message_id), None)
    if sent is None:
        raise NotFound(f"No message {body.message_id} was sent through this integration")
    if integration["type"] == "twilio":
        return 200, await _post(_built(lambda: fakes.twilio.status(sent, body.status, error_code=code)))
    status = "failed" if body.status == "undelivered" else body.status
    return 200, await _post(_built(lambda: fakes.whatsapp.status(sent, config["appSecret"], status,
                                                                 error_code=None if code is None else int(code))))


@routes("GET", SIM + "/outbox", "SimulatorOutbox", ACCOUNT)
async def outbox(call: Call) -> Reply:
    """The messages Heliograph sent to the integration's channel, oldest first, as the person sees them."""
    fakes, integration = await _simulated(call)
    config = integration["config"]
    sent, preview = {
        "telegram": lambda: (fakes.telegram.sent_by(config["token"]), telegram.preview),
        "twilio": lambda: (fakes.twilio.sent_by(config["accountSid"]), twilio.preview),
        "whatsapp": lambda: (fakes.whatsapp.sent_by(config["phoneNumberId"]), whatsapp.preview),
        "messenger": lambda: (fakes.messenger.sent_by(str(config["pageId"])), messenger.preview),
        "instagram": lambda: (fakes.instagram.sent_by(str(config["pageId"])), messenger.preview),
        "mailgun": lambda: (fakes.mailgun.sent_by(str(config["domain"])), mailgun.preview),
    }[integration["type"]]()
    return 200, {"messages": [{**preview(one), "request": {"method": one.method, "body": one.body}} for one in sent]}


@routes("POST", SIM + "/faults", "SimulatorFaults", ACCOUNT)
async def faults(call: Call) -> Reply:
    """The channel's API fails the next `times` calls of `method` with `status` (and `retryAfter` on a 429):
    Telegram's methods (`sendMessage`, …), Twilio's resources (`Messages`, …), WhatsApp's (`messages`, …),
    Mailgun's (`messages`, `routes`, `webhooks`, `domains`)."""
    fakes, integration = await _simulated(call)
    body = call.body(SimulatedFault)
    fake: FakeTelegram | FakeTwilio | FakeWhatsApp | FakeMessenger | FakeMailgun = getattr(fakes, integration["type"])
    fake.fail(body.method, body.status, times=body.times,
              retry_after=None if body.retry_after is UNSET else body.retry_after)
    return 200, {}


async def _simulated(call: Call) -> tuple[Fakes, Any]:
    """The fakes and the integration (404 when not simulating, or for one of a channel the simulator lacks)."""
    fakes = call.services.simulator
    if fakes is None:
        raise NotFound(OFF)
    async with call.services.db.read() as conn:
        integration = await channels.simulated_integration(conn, integration_id=call.params["integrationId"])
    return fakes, integration


def _telegram_write(fakes: Fakes, integration: Any, body: SimulatedWrite) -> Delivery:
    person, token = body.from_, integration["config"]["token"]
    if person.id.startswith("+"):
        raise BadRequest("from.id: a Telegram user's id is a number, without +")
    first = "Someone" if person.given_name is UNSET else person.given_name
    if body.postback is not UNSET:
        return fakes.telegram.press(token, user_id=int(person.id), first_name=first, data=body.postback)
    location = None if body.location is UNSET else (body.location.lat, body.location.long)
    return fakes.telegram.message(token, user_id=int(person.id), first_name=first,
                                  last_name=None if person.surname is UNSET else person.surname,
                                  text=None if body.text is UNSET else body.text, location=location)


def _twilio_write(fakes: Fakes, integration: Any, body: SimulatedWrite) -> Delivery:
    if body.text is UNSET:
        raise BadRequest("An SMS has no location and no buttons: send text")
    config = integration["config"]
    sender = body.from_.id if body.from_.id.startswith("+") else "+" + body.from_.id
    number = config.get("phoneNumber") or ""
    return fakes.twilio.incoming(config["accountSid"], to=number, sender=sender, body=body.text)


def _whatsapp_write(fakes: Fakes, integration: Any, body: SimulatedWrite) -> Delivery:
    config, person = integration["config"], body.from_
    sender = person.id.lstrip("+")
    name = " ".join(p for p in (person.given_name, person.surname) if p is not UNSET) or "Someone"
    location = None if body.location is UNSET else (body.location.lat, body.location.long)
    return fakes.whatsapp.message(config["phoneNumberId"], config["appSecret"], sender=sender, name=name,
                                  text=None if body.text is UNSET else body.text, location=location,
                                  press=None if body.postback is UNSET else body.postback)


def _mailgun_write(fakes: Fakes, integration: Any, body: SimulatedWrite) -> Delivery:
    if body.text is UNSET:
        raise BadRequest("An email has no location and no buttons: send text")
    config, person = integration["config"], body.from_
    name = " ".join(p for p in (person.given_name, person.surname) if p is not UNSET)
    return fakes.mailgun.incoming(str(config["incomingAddress"]), sender=person.id, name=name, text=body.text,
                                  signing_key=str(config.get("signingKey") or config.get("apiKey")))


def _page_write(fakes: Fakes, integration: Any, body: SimulatedWrite) -> Delivery:
    config, fake = integration["config"], getattr(fakes, integration["type"])
    page, app, sender = str(config["pageId"]), str(config["appId"]), body.from_.id.lstrip("+")
    if body.postback is not UNSET:
        return fake.postback(page, app, sender=sender, payload=body.postback)  # type: ignore[no-any-return]
    if body.text is UNSET:
        raise BadRequest(f"{integration['type']} people send text or press buttons here: no location")
    return fake.message(page, app, sender=sender, text=body.text)  # type: ignore[no-any-return]


def _built(make: Callable[[], Delivery]) -> Delivery:
    """The channel's request, or a 400 when the channel would have nowhere to send it (no webhook)."""
    try:
        return make()
    except (LookupError, KeyError) as error:
        raise BadRequest(f"The integration's channel has no webhook: {error}") from None


async def _post(delivery: Delivery) -> dict[str, Any]:
    """POST the channel's request where it goes, over the network as the channel would; it and the answer."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(delivery.url, content=delivery.body, headers=delivery.headers)
    try:
        shown: Any = json.loads(delivery.body)
    except ValueError:
        shown = delivery.body.decode()
    return {"request": {"method": "POST", "url": delivery.url, "headers": delivery.headers, "body": shown},
            "answer": {"status": answer.status_code, "body": _body(answer)}}


def _body(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text
