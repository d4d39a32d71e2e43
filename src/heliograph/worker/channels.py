"""The channel sender: claim due channel sends, make the channel's calls, record the outcome and its event.

It runs beside the webhooks' dispatcher (worker/runner.py), woken by the same signals: this process's commits
that wrote a send, other processes' through PostgreSQL's NOTIFY, a send that finished (its lane may have a
next one), or the next send falling due. A lane (one integration's sends in one conversation) has one send
out at a time, so a person gets a conversation's messages in order; lanes go out in parallel.

What a send comes to (docs/channels.md):
- all of the message's calls accepted: `sent`, and conversation:message:delivery:channel with the ids the
  channel gave them (`externalMessages`);
- a refusal that trying again may get past (429, 5xx, a timeout): pending again, after the retry policy's next
  delay or the channel's `retry_after` if longer, going on from the first call not made yet; past the
  policy's last attempt, or for any other refusal: `failed`, and conversation:message:delivery:failure with
  the channel's error;
- a channel Heliograph does not talk to, or a message it cannot carry: `failed` at once.

A channel link's confirmation message (no message of the conversation) settles its link instead: an `immediate`
link is confirmed once the channel accepted it (client:update `confirmed`), and any link whose confirmation
failed is given up (client:remove `linkFailed`, with the error).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.channels.apis import ChannelApis
from heliograph.channels.base import ChannelError
from heliograph.channels.registry import adapter
from heliograph.events import clients as client_events
from heliograph.events import payloads as events
from heliograph.ids import Clock, IdFactory, system_clock
from heliograph.store import channel_sends as store
from heliograph.store import links
from heliograph.store.db import Database
from heliograph.store.fast import Plan
from heliograph.store.outbox import emit_plan
from heliograph.store.users import find_user_plan
from heliograph.worker.loop import WokenLoop
from heliograph.worker.policy import Policy

log = logging.getLogger("heliograph.channels")


@dataclasses.dataclass(frozen=True)
class _Outcome:
    progress: int  # calls of the message made, in all
    external_ids: list[str]
    error: ChannelError | None
    done: bool = True  # False: the lease ran out before the last call (nothing failed: it goes on at once)


class ChannelSender(WokenLoop):
    def __init__(self, db: Database, apis: ChannelApis, policy: Policy, ids: IdFactory, *,
                 clock: Clock = system_clock, claim_limit: int = 100, max_in_flight: int = 64) -> None:
        super().__init__()
        self.db, self.apis, self.policy, self.ids, self.clock = db, apis, policy, ids, clock
        self.claim_limit, self.max_in_flight = claim_limit, max_in_flight
        # A lease covers a few calls of a message, each cut off at the policy's timeout; a send that would not
        # end within its lease stops and is recorded (its progress kept), and a record is fenced by the lease:
        # a sender that lost its lease to another records nothing.
        self.lease_ms = int((policy.timeout * 3 + 10) * 1000)

    async def once(self) -> int:
        return await self.send_once()

    async def next_due(self, conn: AsyncConnection) -> int | None:
        return await store.next_due(conn)

    async def send_once(self) -> int:
        """Claim what is due, as many lanes as there are free slots for (a claimed run starts at once, so its
        lease runs while it is sent, never while it waits), and start sending each lane's run; how many sends
        were claimed."""
        free = self.max_in_flight - len(self._in_flight)
        if free <= 0:
            return 0
        now = self.clock()
        claimed = await self.db.transact(lambda: store.claim_plan(now=now, lease_ms=self.lease_ms, lanes=free,
                                                                  limit=self.claim_limit))
        runs: dict[str, list[store.Claimed]] = {}
        for send in claimed:
            runs.setdefault(send.lane, []).append(send)
        for sends in runs.values():
            self.start(self._send_run(sends, leased_until=now + self.lease_ms))
        return len(claimed)

    async def _send_run(self, sends: list[store.Claimed], *, leased_until: int) -> None:
        """A lane's run, in order, each send recorded as it ends; the first that is not over (to be retried, or
        cut short by the lease) stops the run, and the rest are released for a later claim."""
        done = 0
        try:
            for send in sends:
                outcome = await self._attempt(send, leased_until)
                over = await self.db.transact(functools.partial(self._record, send, outcome, leased_until))
                done += 1
                if not over:
                    break
            await self.db.transact(lambda: store.release_plan([send.seq for send in sends[done:]]))
        except Exception:  # the record failed: the leases will hand these sends out again
            log.exception("channel sends of lane %s could not be recorded", sends[0].lane)
        finally:
            self.wake()

    async def _attempt(self, send: store.Claimed, leased_until: int) -> _Outcome:
        """Make the message's calls not made yet, in order, until one fails."""
        progress, ids = send.progress, list(send.external_ids)
        channel = adapter(send.integration_type)
        if channel is None or send.integration_status != "active":
            said = (f"The {send.integration_type} channel is not supported by this server" if channel is None else
                    f"The {send.integration_type} integration is not active: its channel is not set up")
            return _Outcome(progress, ids, ChannelError("uncategorized_error", said))
        try:
            calls = channel.render(send.content, message_id=send.message_id or f"link-{send.client_id}",
                                   to=send.recipient)
        except ChannelError as error:
            return _Outcome(progress, ids, error)
        except Exception as error:  # a bug of the adapter's: the send fails, and the lane goes on
            log.exception("channel send %s could not be written for %s", send.seq, send.integration_type)
            return _Outcome(progress, ids, ChannelError("uncategorized_error", f"{type(error).__name__}: {error}"))
        base_url = self.apis.base_url(channel)
        for call in calls[progress:]:
            if self.clock() + self.policy.timeout * 1000 >= leased_until - 5000:  # another sender takes it after
                return _Outcome(progress, ids, None, done=False)
            try:
                async with asyncio.timeout(self.policy.timeout):  # the whole call, however its phases go
                    sent = await channel.send(self.apis.http, base_url, send.config, call)
            except ChannelError as error:
                return _Outcome(progress, ids, error)
            except TimeoutError:
                return _Outcome(progress, ids, ChannelError(
                    "timeout", f"{send.integration_type} did not answer within {self.policy.timeout:g} s",
                    retryable=True))
            except Exception as error:  # an unexpected failure is an attempt like any other: retried, then failed
                log.exception("channel send %s: the call failed unexpectedly", send.seq)
                return _Outcome(progress, ids, ChannelError("uncategorized_error", f"{type(error).__name__}: {error}",
                                                            retryable=True))
            progress += 1
            ids += sent.external_ids
        return _Outcome(progress, ids, None)

    def _record(self, send: store.Claimed, outcome: _Outcome, leased_until: int) -> Plan[bool]:
        """Store the outcome (unless the lease was lost: another sender has the send) and, once the send is over,
        its delivery event, in the same transaction; the ids of the parts the channel accepted, for its receipts.
        Whether the send is over (sent or failed: what follows it in its lane may go)."""
        now, error = self.clock(), outcome.error
        if error is None:
            status, retry_at = (store.SENT, None) if outcome.done else (store.PENDING, now)
        else:
            wait = self._retry_in(send.attempts + 1, error)
            status, retry_at = (store.FAILED, None) if wait is None else (store.PENDING, now + int(wait * 1000))
        described = None if error is None else f"{error.code}: {error.message}"
        yield from store.hold_plan(message_id=send.message_id, integration_id=send.integration_id,
                                   client_id=send.client_id)
        recorded = yield from store.record_plan(seq=send.seq, leased_until=leased_until, status=status, at=now,
                                                progress=outcome.progress, external_ids=outcome.external_ids,
                                                retry_at=retry_at, error=described)
        if not recorded:
            return False  # gone with its message, conversation or integration, or the lease was lost
        message_id = send.message_id
        if message_id is None:
            return (yield from self._settle_link(send, error, status == store.PENDING, now))
        channel = adapter(send.integration_type)
        new_ids = outcome.external_ids[len(send.external_ids):]
        if new_ids and channel is not None and channel.receipts:  # the channel's receipts will name them
            yield from store.sent_ids_plan(integration_id=send.integration_id, message_id=message_id,
                                           external_ids=new_ids, now=now)
        if status == store.PENDING:
            if error is not None:
                log.info("channel send %s: %s; again in %d ms", send.seq, described, (retry_at or now) - now)
            return False
        conversation = yield from store.conversation_plan(conversation_id=send.conversation_id)
        user = yield from find_user_plan(app_id=send.app_id, user_id=send.user_id)
        if conversation is None:
            return True
        destination = {"type": send.integration_type, "integrationId": send.integration_id}
        kind = "conversation:message:delivery:channel" if error is None else "conversation:message:delivery:failure"
        yield from emit_plan(ids=self.ids, app_id=send.app_id, type=kind, lane=send.conversation_id,
                             payload=lambda control: events.message_delivery(
                                 {**conversation, **control}, user, message_id=message_id,
                                 destination=destination, external_ids=outcome.external_ids,
                                 final=error is not None or channel is None or not channel.receipts,
                                 error=None if error is None else {"code": error.code, "message": error.message}))
        return True

    def _settle_link(self, send: store.Claimed, error: ChannelError | None, pending: bool, now: int) -> Plan[bool]:
        """A link's confirmation came to its end: an `immediate` link is confirmed once the channel accepted it,
        and a link whose confirmation failed is given up (if the link is still pending: the person may have
        written meanwhile, or the client been removed)."""
        if pending:
            if error is not None:
                log.info("link confirmation %s: %s: %s; tried again", send.seq, error.code, error.message)
            return False
        immediate = ((send.link or {}).get("confirmation") or {}).get("type") == "immediate"
        if error is None and not immediate:
            return True  # it waits for the person to write
        if error is None:
            client = yield from links.confirm_plan(client_id=send.client_id, now=now)
        else:
            client = yield from links.give_up_plan(client_id=send.client_id)
        if client is None:
            return True
        user = yield from find_user_plan(app_id=send.app_id, user_id=send.user_id)
        target = yield from store.conversation_plan(conversation_id=send.conversation_id)
        if error is None:
            kind, payload = "client:update", client_events.client_update(client, user, target, "confirmed")
        else:
            kind, payload = "client:remove", client_events.client_remove(
                client, user, "linkFailed", target=target, error={"code": error.code, "message": error.message})
        yield from emit_plan(ids=self.ids, app_id=send.app_id, type=kind, lane=send.user_id, payload=payload)
        return True

    def _retry_in(self, attempts_made: int, error: ChannelError) -> float | None:
        """Seconds until the next attempt, or None when there is none (a final refusal, or the last attempt)."""
        if not error.retryable:
            return None
        if attempts_made >= self.policy.max_attempts:
            return None
        return max(self.policy.delays[attempts_made - 1], error.retry_after or 0.0)
