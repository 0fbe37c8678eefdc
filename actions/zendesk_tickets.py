"""Zendesk tickets, never lost and never made twice: who the ticket is for (the verified line or contract,
server-side, never slots), its tags, priority and group by segment, the agent's private note (the conversation,
one-time codes and card numbers removed), and the SQL outbox that sends it.

Exactly once: the ticket is written to the outbox (common/state/care.py) with its reference before Zendesk is
called, and sent with that reference as `external_id` and `Idempotency-Key`. If Zendesk is down, rate limiting
or times out, the customer gets the reference and the ticket stays pending; `flush_outbox` (a thread of the
action server, the worker `python -m actions.zendesk_tickets --watch`, `--flush` by hand, or tests) sends it
later, first asking Zendesk whether an earlier attempt did create it.
"""

import argparse
import logging
import re
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

import phonenumbers
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import business_hours
from actions.backends import zendesk
from actions.customer_history import history_note
from actions.i18n import language_of, say
from actions.identity import sessions, verified
from actions.identity.verified import channel_identity
from clients import BackendError, BackendUnavailable
from clients.bss import Line
from clients.zendesk import ZendeskClient
from common import config
from common.i18n import render
from common.phone import display
from common.state import care
from privacy.redaction import redact_text

logger = logging.getLogger(__name__)
# One attempt holds its ticket this long (longer than the HTTP timeouts), so two never run at once.
CLAIM_SECONDS = int(2 * config.HTTP_READ_TIMEOUT + config.HTTP_CONNECT_TIMEOUT + 5)


# --- who the ticket is for ---------------------------------------------------------------------------


@dataclass
class Customer:
    subject: Optional[str]  # line:+229..., contract:HG-..., None when not identified
    line: Optional[Line]
    segment: str  # prepaid, postpaid, home, vip, unknown
    market: str
    language: str
    channel: str
    sender_id: str

    @property
    def phone(self) -> Optional[str]:
        """The verified mobile number, if the customer proved one."""
        return self.subject.split(":", 1)[1] if self.subject and self.subject.startswith("line:") else None

    @property
    def name(self) -> Optional[str]:
        return self.line.customer_name if self.line is not None and self.line.customer_name else None

    def requester(self) -> Dict[str, str]:
        if self.phone:
            return {"name": self.name or display(self.phone), "phone": self.phone}
        if self.subject:  # a home contract: its holder
            return {"name": self.name or f"Contract {self.subject.split(':', 1)[1]}"}
        return {"name": f"{self.channel} customer {self.sender_id[:24]}"}

    def describe(self) -> str:
        if self.phone:
            return f"{self.name or '?'} · {display(self.phone)} (verified line)"
        if self.subject:
            return f"{self.name or '?'} · home contract {self.subject.split(':', 1)[1]} (verified)"
        return f"not identified ({self.channel} user {self.sender_id})"


def customer_of(tracker: Tracker) -> Customer:
    language = language_of(tracker)
    identity, line = None, None
    try:
        identity = sessions.current(tracker.sender_id, touch=False) or channel_identity(tracker)
        line = verified.line_of(identity) if identity else None
    except BackendError as error:  # a ticket never waits for the BSS: it goes without the line's details
        logger.warning("ticket for %s without line details: %s", tracker.sender_id, error)
    subject = identity.subject if identity else None
    if subject and subject in config.VIP_SUBJECTS:
        segment = "vip"
    elif line is not None and line.payment_type:
        segment = line.payment_type
    elif subject and subject.startswith("contract:"):
        segment = "home"
    else:
        segment = "unknown"
    market = line.market if line is not None and line.market else None
    if market is None and subject and subject.startswith("line:"):
        market = phonenumbers.region_code_for_number(phonenumbers.parse(subject[5:]))
    market = market or config.LANGUAGE_REGIONS.get(language) or config.CARE_DEFAULT_MARKET
    return Customer(
        subject, line, segment, market, language, tracker.get_latest_input_channel() or "unknown", tracker.sender_id
    )


def priority_for(segment: str) -> str:
    return config.TICKET_PRIORITIES.get(segment) or config.TICKET_PRIORITIES.get("unknown") or "normal"


def group_for(segment: str, language: str) -> Optional[int]:
    groups = config.ZENDESK_GROUPS
    for key in (f"{segment}:{language}", f"{segment}:*", f"*:{language}", "*:*"):
        if key in groups:
            return groups[key]
    return None


def tag(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", str(text).lower()).strip("_")


def tags_for(customer: Customer, purpose: str, topic: str, extra: Sequence[str] = ()) -> List[str]:
    found = [
        "chatbot",
        purpose,
        f"channel_{customer.channel}",
        f"lang_{customer.language}",
        f"market_{customer.market}",
        f"segment_{customer.segment}",
        f"topic_{topic}",
        *extra,
    ]
    return list(dict.fromkeys(tag(t) for t in found))


# --- what the agent reads ------------------------------------------------------------------------------


def transcript(tracker: Tracker, limit: Optional[int] = None) -> List[str]:
    """The conversation as lines "[09:14] Customer: ...", one-time codes and card numbers removed."""
    lines, offered = [], {}  # offered: the last buttons shown, payload -> title
    for event in tracker.events or []:
        kind, text = event.get("event"), (event.get("text") or "").strip()
        if kind not in ("user", "bot") or not text:
            continue
        if kind == "user":  # every code-like number goes: the agent never needs a code, a code must never stay
            who = "Customer"
            text = f"[tapped] {offered[text]}" if text in offered else redact_text(text, answering_code=True)
        else:
            who, text = "Assistant", redact_text(text)
            buttons = [b for b in (event.get("data") or {}).get("buttons") or [] if b.get("title")]
            offered = {b.get("payload"): b["title"] for b in buttons}
            text += f" [buttons: {' | '.join(b['title'] for b in buttons)}]" if buttons else ""
        at = event.get("timestamp")
        clock = datetime.fromtimestamp(at, timezone.utc).strftime("[%H:%M] ") if at else ""
        lines.append(f"{clock}{who}: {text}")
    return lines[-(limit or config.TICKET_TRANSCRIPT_MESSAGES) :]


def internal_note(
    reference: str,
    tracker: Tracker,
    customer: Customer,
    purpose: str,
    topic: str,
    issue: Optional[str],
    extra: Sequence[str] = (),
) -> str:
    header = [
        f"Opened by the virtual assistant ({customer.channel}, {customer.language}). Reference {reference}.",
        f"Purpose: {purpose} · Topic: {topic} · Segment: {customer.segment} · Market: {customer.market}",
        f"Customer: {customer.describe()}",
    ]
    if issue:
        header.append(f'Customer\'s words: "{redact_text(issue, answering_code=True)}"')
    header.extend(extra)
    header.append("The customer was told the answer comes on this same channel.")
    header.extend(history_note(customer.subject, tracker.sender_id))
    lines = transcript(tracker)
    body = "\n".join(header)
    if lines:
        body += "\n\nTranscript (UTC; one-time codes and card numbers removed):\n" + "\n".join(lines)
    return body


def subject_for(purpose: str, topic: str, issue: Optional[str], customer: Customer) -> str:
    if issue:
        words = " ".join(redact_text(issue, answering_code=True).split())
        return (words[:77] + "…") if len(words) > 78 else words
    who = customer.name or (display(customer.phone) if customer.phone else "customer not identified")
    return f"Chat {purpose}: {topic} ({who})"


@dataclass(frozen=True)
class Submitted:
    reference: str
    number: Optional[int]  # the Zendesk ticket number, once Zendesk has it
    new: bool  # False: the same request was already saved a moment ago


def open_ticket(
    tracker: Tracker,
    customer: Customer,
    purpose: str,
    topic: str,
    issue: Optional[str] = None,
    ticket_type: Optional[str] = None,
    extra_tags: Sequence[str] = (),
    note_lines: Sequence[str] = (),
    subject: Optional[str] = None,
) -> Submitted:
    """Saves the ticket in the outbox, then tries Zendesk once; never raises for Zendesk's sake."""

    def build(reference: str) -> Dict[str, Any]:
        fields = {
            "subject": subject or subject_for(purpose, topic, issue, customer),
            "comment": {
                "body": internal_note(reference, tracker, customer, purpose, topic, issue, note_lines),
                "public": False,
            },
            "external_id": reference,
            "requester": customer.requester(),
            "tags": tags_for(customer, purpose, topic, extra_tags),
            "priority": priority_for(customer.segment),
        }
        if ticket_type:
            fields["type"] = ticket_type
        group = group_for(customer.segment, customer.language)
        if group is not None:
            fields["group_id"] = group
        return fields

    fingerprint = care.fingerprint(purpose, topic, issue or "")
    if in_action_server():
        start_retrier()  # on first use, not at import: what Zendesk does not take now is retried in the background
    row, new = care.enqueue(tracker.sender_id, purpose, fingerprint, build, config.TICKET_DUPLICATE_MINUTES)
    number = deliver(row.reference) if row.status == care.PENDING else row.zendesk_id
    return Submitted(row.reference, number, new)


# --- sending, and sending again ------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    return min(max(config.TICKET_RETRY_SECONDS, 1) * 2 ** max(attempts - 1, 0), 1800)


def deliver(reference: str, client: Optional[ZendeskClient] = None) -> Optional[int]:
    """One attempt to get the ticket into Zendesk; answers its number, or None while it is pending."""
    row = care.claim(reference, CLAIM_SECONDS)
    if row is None:  # created already, refused, or another attempt is under way
        current = care.get(reference)
        return current.zendesk_id if current else None
    client = client or zendesk()
    try:
        number = client.ticket_by_external_id(reference) if row.attempts > 1 else None
        if number is None:
            number = client.submit_ticket(row.ticket, idempotency_key=reference)
        elif number:
            logger.info("ticket %s was created by an earlier attempt: #%s", reference, number)
    except BackendUnavailable as error:
        logger.warning("ticket %s stays in the outbox (attempt %s): %s", reference, row.attempts, error)
        care.mark_retry(reference, str(error), retry_delay(row.attempts))
        return None
    except BackendError as error:
        if error.status in (400, 422):  # Zendesk refuses this ticket as it is: kept for a person to look at
            logger.error("ticket %s refused by Zendesk: %s", reference, error)
            care.mark_refused(reference, str(error))
        else:  # credentials, permissions...: a configuration problem, retried once someone fixes it
            logger.error("ticket %s not accepted (will retry): %s", reference, error)
            care.mark_retry(reference, str(error), retry_delay(row.attempts))
        return None
    except Exception as error:
        care.mark_retry(reference, repr(error), retry_delay(row.attempts))
        raise
    care.mark_created(reference, number)
    return number


def flush_outbox(client: Optional[ZendeskClient] = None, everything: bool = False, limit: int = 100) -> Dict[str, int]:
    """Sends the pending tickets that are due (all pending ones with `everything`); answers what happened."""
    references = care.due(limit, everything)
    counts = {"created": 0, "pending": 0}
    if references:
        client = client or ZendeskClient()  # its own: this may run in the retry thread
    for reference in references:
        counts["created" if deliver(reference, client) else "pending"] += 1
    if references:
        logger.info("ticket outbox: %s", counts)
    return counts


_retrier: Optional[threading.Thread] = None
_stop = threading.Event()


def start_retrier(interval: Optional[float] = None) -> Optional[threading.Thread]:
    """Retries pending tickets every `interval` seconds in a daemon thread (one per process)."""
    global _retrier
    interval = config.TICKET_RETRY_SECONDS if interval is None else interval
    if interval <= 0 or (_retrier is not None and _retrier.is_alive()):
        return _retrier
    _stop.clear()

    def loop() -> None:
        while not _stop.wait(interval):
            try:
                flush_outbox()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("ticket outbox: flush failed")

    _retrier = threading.Thread(target=loop, name="ticket-outbox", daemon=True)
    _retrier.start()
    return _retrier


def stop_event() -> threading.Event:
    """Set when the retrier is told to stop."""
    return _stop


def stop_retrier() -> None:
    _stop.set()
    if _retrier is not None:
        _retrier.join(timeout=30)


# --- the dialogue ----------------------------------------------------------------------------------------


def tell_submitted(
    dispatcher: CollectingDispatcher, tracker: Tracker, submitted: Submitted, created_key: str, queued_key: str
) -> None:
    if not submitted.new:
        say(
            dispatcher,
            tracker,
            "ticket_already_open",
            reference=f"{submitted.number} · {submitted.reference}" if submitted.number else submitted.reference,
        )
    elif submitted.number:
        say(dispatcher, tracker, created_key, number=submitted.number)
    else:
        say(dispatcher, tracker, queued_key, reference=submitted.reference)


def after_hours_note(tracker: Tracker, market: str) -> Optional[str]:
    if business_hours.is_open(market):
        return None
    language = language_of(tracker)
    return render(
        "ticket_after_hours",
        language,
        hours=business_hours.hours_text(market, language),
        country=business_hours.country_name(market, language),
        next_opening=business_hours.opening_text(market, language),
    )["text"]


def in_action_server() -> bool:
    """rasa_sdk's server imports the actions package; tests and scripts start no threads of their own."""
    return "rasa_sdk.endpoint" in sys.modules


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The ticket outbox (tickets Zendesk has not taken yet).")
    parser.add_argument("--flush", action="store_true", help="send every pending ticket now, then stop")
    parser.add_argument("--watch", action="store_true", help="retry pending tickets until stopped (a worker process)")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    from actions import zendesk_tickets as tickets  # the package's module, not this __main__ copy

    if arguments.flush:
        print(tickets.flush_outbox(everything=True))
    elif arguments.watch:
        tickets.start_retrier()
        tickets.stop_event().wait()
    else:
        parser.print_help()
