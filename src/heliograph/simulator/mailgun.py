"""A fake Mailgun (docs/channels.md#the-fakes): the API calls Heliograph makes, checked as Mailgun checks them
(Basic auth `api:<key>`, a domain of the key's account, a `from` and a `to` address, a subject, a text or an
HTML body), answered with Mailgun's JSON and recorded; and the requests Mailgun makes: a forwarded email for
the route that matches its recipient, and the domain's webhooks' events, signed with the account's signing key.

An account is known once `account()` made it (the tests); not strict, any API key makes one on its first call,
owning any domain it names, and signing with the key itself (the simulator)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from heliograph.channels.mailgun import signature
from heliograph.simulator.base import Called, Delivery, FakeApi, Records, Sent

ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_RECIPIENT = re.compile(r'match_recipient\("([^"]+)"\)')
_FORWARD = re.compile(r'forward\("([^"]+)"\)')
HOOKS = ("delivered", "permanent_fail", "temporary_fail", "opened", "clicked", "unsubscribed", "complained")
__all__ = ["FakeMailgun", "Sent", "preview"]


@dataclasses.dataclass
class Account:
    key: str
    signing_key: str
    domains: set[str]
    routes: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    webhooks: dict[tuple[str, str], list[str]] = dataclasses.field(default_factory=dict)  # (domain, kind) -> urls


class MailgunError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class FakeMailgun(FakeApi):
    def __init__(self, clock: Callable[[], float] = time.time, *, strict: bool = True) -> None:
        self.clock, self.strict = clock, strict
        self.accounts: dict[str, Account] = {}  # by API key
        self.records = Records()
        self._ids = itertools.count(1)

    def account(self, key: str, *, domains: Sequence[str], signing_key: str | None = None) -> None:
        """An account of this API key, owning these domains, signing its requests with `signing_key` (else the
        key itself)."""
        with self.records.lock:
            self.accounts[key] = Account(key, signing_key or key, set(domains))

    # --- the API -----------------------------------------------------------------------------------------

    def call(self, method: str, http_method: str, auth: tuple[str, str] | None, resource: Sequence[str],
             form: Sequence[tuple[str, str]]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One API call (`method`: domains, routes, webhooks or messages, on `resource`'s ids): the status,
        Mailgun's JSON and headers (and its record)."""
        owner = auth[1] if auth else ""
        status, answer, headers = self._answer(method, http_method, auth, resource, form)
        self.records.called(Called(owner, method, status, self.clock()))
        return status, answer, headers

    def _answer(self, method: str, http_method: str, auth: tuple[str, str] | None, resource: Sequence[str],
                form: Sequence[tuple[str, str]]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.records.lock:
            fault = self.records.fault(method)
            if fault is not None:
                headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                return fault.status, {"message": fault.description}, headers
            try:
                account = self._authenticated(auth)
                if method == "routes":
                    return 200, self._route(account, http_method, resource, form), {}
                domain = resource[0]
                if domain not in account.domains:
                    if self.strict:
                        raise MailgunError(404, "Domain not found")
                    account.domains.add(domain)
                if method == "domains":
                    return 200, {"domain": {"name": domain, "state": "active"}}, {}
                if method == "webhooks":
                    return 200, self._webhook(account, http_method, domain, resource[1:], form), {}
                return 200, self._message(domain, dict(form)), {}
            except MailgunError as error:
                return error.status, {"message": error.message}, {}

    def _authenticated(self, auth: tuple[str, str] | None) -> Account:
        if auth is None or auth[0] != "api":
            raise MailgunError(401, "Forbidden")
        account = self.accounts.get(auth[1])
        if account is None and not self.strict and auth[1]:
            account = self.accounts[auth[1]] = Account(auth[1], auth[1], set())
        if account is None:
            raise MailgunError(401, "Forbidden")
        return account

    def _route(self, account: Account, http_method: str, resource: Sequence[str],
               form: Sequence[tuple[str, str]]) -> dict[str, Any]:
        if http_method == "DELETE":
            if account.routes.pop(resource[0], None) is None:
                raise MailgunError(404, "Route not found")
            return {"message": "Route has been deleted", "id": resource[0]}
        fields = dict(form)
        actions = [value for name, value in form if name == "action"]
        if not fields.get("expression") or not actions:
            raise MailgunError(400, "expression and action are required")
        route: dict[str, Any] = {"id": secrets.token_hex(12), "priority": int(fields.get("priority") or 0),
                 "description": fields.get("description", ""), "expression": fields["expression"],
                 "actions": actions, "created_at": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())}
        account.routes[str(route["id"])] = route
        return {"message": "Route has been created", "route": route}

    def _webhook(self, account: Account, http_method: str, domain: str, rest: Sequence[str],
                 form: Sequence[tuple[str, str]]) -> dict[str, Any]:
        kind = rest[0] if rest else dict(form).get("id", "")
        urls = [value for name, value in form if name == "url"]
        if kind not in HOOKS:
            raise MailgunError(400, f"Invalid webhook id: {kind}")
        key = (domain, kind)
        if http_method == "POST" and key in account.webhooks:
            raise MailgunError(400, f"Webhook with the {kind} id has been already created")
        if http_method in ("GET", "PUT", "DELETE") and key not in account.webhooks:
            raise MailgunError(404, "Webhook not found")
        if http_method == "DELETE":
            return {"message": "Webhook has been deleted", "webhook": {"urls": account.webhooks.pop(key)}}
        if http_method in ("POST", "PUT"):
            if not urls or len(urls) > 3 or not all(url.startswith(("http://", "https://")) for url in urls):
                raise MailgunError(400, "url is required, and at most 3 of them")
            account.webhooks[key] = urls
        return {"message": "Webhook has been updated" if http_method == "PUT" else "Webhook has been created",
                "webhook": {"urls": list(account.webhooks[key])}}

    def _message(self, domain: str, form: dict[str, str]) -> dict[str, Any]:
        for field in ("from", "to"):
            if not ADDRESS.search(form.get(field, "")):
                raise MailgunError(400, f"'{field}' parameter is not a valid address. please check documentation")
        if not form.get("subject"):
            raise MailgunError(400, "subject parameter is missing")
        if not form.get("text") and not form.get("html"):
            raise MailgunError(400, "Need at least one of 'text' or 'html' parameters specified")
        message_id = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(self.clock()))}.{next(self._ids)}@{domain}"
        self.records.record(Sent(domain, "messages", form, message_id, self.clock()))
        return {"id": f"<{message_id}>", "message": "Queued. Thank you."}

    # --- what Mailgun sends Heliograph ---------------------------------------------------------------------

    def incoming(self, recipient: str, *, sender: str, name: str = "", text: str, subject: str = "Hello",
                 attachment: tuple[str, str, bytes] | None = None, signing_key: str | None = None) -> Delivery:
        """An email from `sender` to `recipient`, forwarded by the route that matches it (multipart if it has an
        attachment: its file name, type and content), signed with the account's key (or `signing_key`)."""
        with self.records.lock:
            found = [(account, route) for account in self.accounts.values() for route in account.routes.values()
                     if _matches(route, recipient)]
        if not found:
            raise LookupError(f"No route matches {recipient}")
        account, route = min(found, key=lambda pair: pair[1]["priority"])
        url = next(_FORWARD.fullmatch(action).group(1) for action in route["actions"]  # type: ignore[union-attr]
                   if _FORWARD.fullmatch(action))
        message_id = f"<{secrets.token_hex(8)}@mail.example.net>"
        sender_field = f"{name} <{sender}>" if name else sender
        form = {"recipient": recipient, "sender": sender, "from": sender_field, "subject": subject,
                "body-plain": f"{text}\n\nOn Monday, you wrote:\n> an earlier email\n" if text else "",
                "stripped-text": text,
                "Message-Id": message_id, "message-headers": json.dumps([
                    ["Message-Id", message_id], ["From", sender_field], ["To", recipient], ["Subject", subject]]),
                "attachment-count": "1" if attachment else "0",
                **self._proof(signing_key or account.signing_key)}
        files = {"attachment-1": (attachment[0], attachment[2], attachment[1])} if attachment else None
        request = httpx.Request("POST", url, data=form, files=files)
        return Delivery(url, {"Content-Type": request.headers["content-type"]}, request.read())

    def event(self, sent: Sent, kind: str, *, reason: str = "bounce", description: str = "",
              signing_key: str | None = None) -> Delivery:
        """The domain's webhook's event for an email sent: `delivered`, or `failed` (permanent, for `reason`)."""
        hook = "delivered" if kind == "delivered" else "permanent_fail"
        with self.records.lock:
            account = next((one for one in self.accounts.values() if (sent.owner, hook) in one.webhooks), None)
        if account is None:
            raise LookupError(f"The domain {sent.owner} has no {hook} webhook")
        urls = account.webhooks[(sent.owner, hook)]
        data: dict[str, Any] = {"event": kind, "id": secrets.token_urlsafe(16), "timestamp": self.clock(),
                                "recipient": sent.body.get("to", ""),
                                "message": {"headers": {"message-id": sent.message_id, "to": sent.body.get("to"),
                                                        "from": sent.body.get("from"),
                                                        "subject": sent.body.get("subject")}}}
        if kind == "failed":
            data.update({"severity": "permanent", "reason": reason, "delivery-status": {
                "code": 550, "message": "5.1.1 The email account does not exist",
                "description": description or "The email account that you tried to reach does not exist"}})
        body = {"signature": self._proof(signing_key or account.signing_key), "event-data": data}
        return Delivery(urls[-1], {"Content-Type": "application/json"}, json.dumps(body).encode())  # the newest URL

    def _proof(self, key: str) -> dict[str, str]:
        timestamp, token = str(int(self.clock())), secrets.token_hex(25)
        return {"timestamp": timestamp, "token": token, "signature": signature(key, timestamp, token)}


def _matches(route: dict[str, Any], recipient: str) -> bool:
    found = _RECIPIENT.fullmatch(route["expression"])
    return found is not None and found.group(1).lower() == recipient.lower()


def preview(sent: Sent) -> dict[str, Any]:
    """What the person's mailbox shows of an email sent: its subject and text."""
    return {"id": sent.message_id, "method": sent.method, "to": sent.body.get("to", ""),
            "subject": sent.body.get("subject", ""), "text": sent.body.get("text", "")}
