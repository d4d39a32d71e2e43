"""The channel simulator's endpoints (docs/channels.md, the simulator): Heliograph's own, with the account key,
served only when HELIOGRAPH_CHANNELS=simulate.

    POST /_heliograph/sim/integrations/{integrationId}/messages   a person writes (or presses a button) on the
                                                                  integration's channel: the channel's request,
                                                                  signed, through the real inbound route
    GET  /_heliograph/sim/integrations/{integrationId}/outbox     what Heliograph sent to that channel
    POST /_heliograph/sim/integrations/{integrationId}/faults     the channel's API fails its next calls
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from heliograph.api.http import ACCOUNT, Call, Reply, Routes, exact_pattern
from heliograph.errors import BadRequest, NotFound
from heliograph.schemas.common import UNSET
from heliograph.schemas.simulator import SimulatedFault, SimulatedWrite
from heliograph.services import channels
from heliograph.simulator.app import Fakes
from heliograph.simulator.telegram import preview

routes = Routes(exact_pattern)
SIM = "/_heliograph/sim/integrations/{integrationId}"
OFF = "The channel simulator is off: start the server with HELIOGRAPH_CHANNELS=simulate"


@routes("POST", SIM + "/messages", "SimulatorWrite", ACCOUNT)
async def write(call: Call) -> Reply:
    """A person's action on the channel, made into the channel's own request, signed as the channel signs it and
    POSTed to the inbound URL the integration gave the channel; the request and the server's answer to it."""
    fakes, token = await _simulated(call)
    body = call.body(SimulatedWrite)
    given = [name for name in ("text", "location", "postback") if getattr(body, name) is not UNSET]
    if len(given) != 1:
        raise BadRequest("One of text, location or postback is required, and only one")
    person = body.from_
    first = "Someone" if person.given_name is UNSET else person.given_name
    last = None if person.surname is UNSET else person.surname
    try:
        if body.postback is not UNSET:
            delivery = fakes.telegram.press(token, user_id=int(person.id), first_name=first, data=body.postback)
        else:
            location = None if body.location is UNSET else (body.location.lat, body.location.long)
            delivery = fakes.telegram.message(token, user_id=int(person.id), first_name=first, last_name=last,
                                              text=None if body.text is UNSET else body.text, location=location)
    except LookupError as error:
        raise BadRequest(f"The integration's channel has no webhook: {error}") from None
    async with httpx.AsyncClient(timeout=30) as http:  # through the network, as the channel would
        answer = await http.post(delivery.url, content=delivery.body, headers=delivery.headers)
    return 200, {"request": {"method": "POST", "url": delivery.url, "headers": delivery.headers,
                             "body": json.loads(delivery.body)},
                 "answer": {"status": answer.status_code, "body": _body(answer)}}


@routes("GET", SIM + "/outbox", "SimulatorOutbox", ACCOUNT)
async def outbox(call: Call) -> Reply:
    """The messages Heliograph sent to the integration's channel, oldest first, as the person sees them."""
    fakes, token = await _simulated(call)
    return 200, {"messages": [{**preview(sent), "request": {"method": sent.method, "body": sent.body}}
                              for sent in fakes.telegram.sent_by(token)]}


@routes("POST", SIM + "/faults", "SimulatorFaults", ACCOUNT)
async def faults(call: Call) -> Reply:
    """The channel's API fails the next `times` calls of `method` with `status` (and `retryAfter` on a 429)."""
    fakes, _token = await _simulated(call)
    body = call.body(SimulatedFault)
    fakes.telegram.fail(body.method, body.status, times=body.times,
                        retry_after=None if body.retry_after is UNSET else body.retry_after)
    return 200, {}


async def _simulated(call: Call) -> tuple[Fakes, str]:
    """The fakes and the integration's credential there (404 when not simulating, or for an integration of a
    channel the simulator does not fake)."""
    fakes = call.services.simulator
    if fakes is None:
        raise NotFound(OFF)
    async with call.services.db.read() as conn:
        token = await channels.simulated_credential(conn, integration_id=call.params["integrationId"])
    return fakes, token


def _body(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text
