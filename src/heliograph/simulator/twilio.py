"""A fake Twilio (docs/channels.md#the-fakes): the REST API calls Heliograph makes, checked as Twilio checks them
(Basic auth with the account's SID and auth token, an E.164 `To`, a sender the account owns, a Body of at
most 1,600 characters or a MediaUrl), answered with Twilio's JSON and recorded; and the requests Twilio makes
to the number's SmsUrl and a message's StatusCallback, signed with X-Twilio-Signature.

An account is known once `account()` made it (the tests); not strict, any SID and token make one on their
first call, and any phone number SID a number of its own (the simulator)."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from heliograph.channels.twilio import MAX_BODY, signature
from heliograph.simulator.base import Called, Delivery, FakeApi, Records, Sent

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
__all__ = ["FakeTwilio", "Sent", "preview"]


@dataclasses.dataclass
class Account:
    token: str
    numbers: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # PN… -> the number's resource
    services: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # MG… -> the service


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeTwilio(FakeApi):
    def __init__(self, clock: Callable[[], float] = time.time, *, strict: bool = True) -> None:
        self.clock, self.strict = clock, strict
        self.accounts: dict[str, Account] = {}
        self.records = Records()
        self.callbacks: dict[str, str] = {}  # SM… -> the StatusCallback it was sent with
        self._ids = itertools.count(1)

    def account(self, sid: str, token: str, *, numbers: dict[str, str] | None = None,
                services: tuple[str, ...] = ()) -> None:
        """An account of these credentials, owning these numbers (PN… -> +1…) and messaging services."""
        with self.records.lock:
            self.accounts[sid] = Account(token, {pn: _number(pn, phone) for pn, phone in (numbers or {}).items()},
                                         {mg: {"sid": mg} for mg in services})

    # --- the REST API --------------------------------------------------------------------------------

    def call(self, method: str, sid: str, auth: tuple[str, str] | None, resource: str, form: dict[str, str]
             ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One REST call on the account `sid`: the status, Twilio's JSON and headers (and its record)."""
        status, answer, headers = self._answer(method, sid, auth, resource, form)
        self.records.called(Called(sid, method, status, self.clock()))
        return status, answer, headers

    def _answer(self, method: str, sid: str, auth: tuple[str, str] | None, resource: str, form: dict[str, str]
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.records.lock:
            fault = self.records.fault(method)
            if fault is not None:
                headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                return fault.status, _error(fault.status, 20429 if fault.status == 429 else 20500,
                                            fault.description), headers
            try:
                account = self._authenticated(sid, auth)
                if method == "Messages":
                    return 201, self._message(sid, account, form), {}
                if method == "IncomingPhoneNumbers":
                    return 200, self._update_number(account, resource, form), {}
                return 200, self._update_service(account, resource, form), {}
            except TwilioError as error:
                return error.status, _error(error.status, error.code, error.message), {}

    def _authenticated(self, sid: str, auth: tuple[str, str] | None) -> Account:
        if auth is None or auth[0] != sid:
            raise TwilioError(401, 20003, "Authenticate")
        account = self.accounts.get(sid)
        if account is None and not self.strict and sid.startswith("AC") and auth[1]:
            account = self.accounts[sid] = Account(auth[1])
        if account is None or account.token != auth[1]:
            raise TwilioError(401, 20003, "Authenticate")
        return account

    def _update_number(self, account: Account, sid: str, form: dict[str, str]) -> dict[str, Any]:
        number = account.numbers.get(sid)
        if number is None and not self.strict and sid.startswith("PN"):
            number = account.numbers[sid] = _number(sid, f"+1555{zlib.crc32(sid.encode()) % 10**7:07d}")
        if number is None:
            raise TwilioError(404, 20404, f"The requested resource /IncomingPhoneNumbers/{sid}.json was not found")
        for field, key in (("SmsUrl", "sms_url"), ("SmsMethod", "sms_method")):
            if field in form:
                number[key] = form[field]
        return dict(number)

    def _update_service(self, account: Account, sid: str, form: dict[str, str]) -> dict[str, Any]:
        service = account.services.get(sid)
        if service is None and not self.strict and sid.startswith("MG"):
            service = account.services[sid] = {"sid": sid}
        if service is None:
            raise TwilioError(404, 20404, f"The requested resource /Services/{sid} was not found")
        if "InboundRequestUrl" in form:
            service["inbound_request_url"] = form["InboundRequestUrl"]
        return dict(service)

    def _message(self, sid: str, account: Account, form: dict[str, str]) -> dict[str, Any]:
        to, sender, service = form.get("To", ""), form.get("From"), form.get("MessagingServiceSid")
        if not E164.fullmatch(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if service is None and sender not in {n["phone_number"] for n in account.numbers.values()}:
            raise TwilioError(400, 21606, f"The From phone number {sender} is not a valid, SMS-capable inbound "
                                          "phone number or short code for your account.")
        if service is not None and service not in account.services:
            raise TwilioError(400, 21703, "The Messaging Service Sid is invalid.")
        body = form.get("Body", "")
        if not body and not form.get("MediaUrl"):
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        message_sid = f"SM{next(self._ids):032x}"
        if form.get("StatusCallback"):
            self.callbacks[message_sid] = form["StatusCallback"]
        self.records.record(Sent(sid, "Messages", dict(form), message_sid, self.clock()))
        return {"sid": message_sid, "account_sid": sid, "to": to, "from": sender, "body": body, "status": "queued",
                "num_media": "1" if form.get("MediaUrl") else "0", "messaging_service_sid": service}

    # --- what Twilio sends Heliograph ---------------------------------------------------------------------

    def incoming(self, sid: str, *, to: str, sender: str, body: str = "", media: tuple[str, str] | None = None
                 ) -> Delivery:
        """A text (or MMS: its URL and type) from `sender` to the account's number `to`, for the number's SmsUrl."""
        with self.records.lock:
            account = self.accounts[sid]
            number = next((n for n in account.numbers.values() if n["phone_number"] == to), {})
            url = number.get("sms_url") or next((s.get("inbound_request_url") for s in account.services.values()
                                                  if s.get("inbound_request_url")), None)
        if not url:
            raise LookupError(f"The number {to} has no SmsUrl")
        form = {"MessageSid": f"SM{next(self._ids):032x}", "AccountSid": sid, "From": sender, "To": to,
                "Body": body, "NumMedia": "1" if media else "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        if media:
            form.update({"MediaUrl0": media[0], "MediaContentType0": media[1]})
        return self._signed(account.token, url, form)

    def status(self, sent: Sent, status: str, *, error_code: str | None = None) -> Delivery:
        """The status callback of a message sent: `delivered`, `read`, `undelivered`, `failed` …"""
        with self.records.lock:
            account = self.accounts[sent.owner]
            url = self.callbacks[sent.message_id]
        form = {"MessageSid": sent.message_id, "SmsSid": sent.message_id, "AccountSid": sent.owner,
                "MessageStatus": status, "SmsStatus": status, "To": sent.body.get("To", ""),
                "From": sent.body.get("From", ""), "ApiVersion": "2010-04-01"}
        if error_code:
            form["ErrorCode"] = error_code
        return self._signed(account.token, url, form)

    @staticmethod
    def _signed(token: str, url: str, form: dict[str, str]) -> Delivery:
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": signature(token, url, list(form.items()))}
        return Delivery(url, headers, urlencode(form).encode())


def _number(sid: str, phone: str) -> dict[str, Any]:
    return {"sid": sid, "phone_number": phone, "sms_url": "", "sms_method": "POST", "capabilities": {"sms": True}}


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def preview(sent: Sent) -> dict[str, Any]:
    """What the person's phone shows of a message sent: its text and picture."""
    shown: dict[str, Any] = {"id": sent.message_id, "method": sent.method, "to": sent.body.get("To", "")}
    if sent.body.get("Body"):
        shown["text"] = sent.body["Body"]
    if sent.body.get("MediaUrl"):
        shown["mediaUrl"] = sent.body["MediaUrl"]
    return shown
