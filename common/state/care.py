"""The ticket outbox: every ticket the assistant opens is written here first, then sent to Zendesk.

A row is written before Zendesk is called, with a short reference ("T-7K3F9Q") that is the ticket's
`external_id` and the create call's `Idempotency-Key`, and the exact ticket to send. So the customer
always gets a reference, a Zendesk outage only delays the ticket (actions/zendesk_tickets.py retries pending rows),
and a retry whose earlier attempt did reach Zendesk finds that ticket instead of making a second one.
"""

import hashlib
import secrets
from datetime import timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import JSON, Column, DateTime, Integer, String, or_, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import now
from common.state import db
from common.state.db import Base

# No 0/O, 1/I/L, U: a reference read over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PENDING, CREATED, REFUSED = "pending", "created", "refused"


class TicketOutbox(Base):
    __tablename__ = "ticket_outbox"
    reference = Column(String(16), primary_key=True)  # T-7K3F9Q: external_id and Idempotency-Key
    conversation_id = Column(String(128), nullable=False, index=True)
    purpose = Column(String(16), nullable=False)  # ticket, handoff, callback
    fingerprint = Column(String(64), nullable=False, index=True)  # the same request again is the same ticket
    ticket = Column(JSON, nullable=False)  # the Zendesk ticket exactly as sent, every attempt
    status = Column(String(16), nullable=False, index=True)  # pending, created, refused
    zendesk_id = Column(Integer, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)  # counted when an attempt starts
    last_error = Column(String(300), nullable=True)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False)
    claimed_until = Column(DateTime(timezone=True), nullable=True)  # an attempt under way
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)


session = db.session  # db.engine() creates this module's table too, whenever it is imported


def new_reference() -> str:
    return "T-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(" ".join((p or "").lower().split()) for p in parts).encode()).hexdigest()


def enqueue(
    conversation_id: str,
    purpose: str,
    request_fingerprint: str,
    build: Callable[[str], Dict[str, Any]],
    duplicate_minutes: int,
) -> Tuple[TicketOutbox, bool]:
    """Writes a pending ticket built by `build(reference)`; answers (row, True). The same request from
    the same conversation within `duplicate_minutes` (a double tap, a channel redelivery) answers the
    earlier row and False instead."""
    moment = now()
    with session() as s:
        earlier = (
            s.execute(
                select(TicketOutbox)
                .where(
                    TicketOutbox.conversation_id == conversation_id,
                    TicketOutbox.fingerprint == request_fingerprint,
                    TicketOutbox.status != REFUSED,
                    TicketOutbox.created_at >= moment - timedelta(minutes=duplicate_minutes),
                )
                .order_by(TicketOutbox.created_at.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )
    if earlier is not None:
        return earlier, False
    for _ in range(5):
        reference = new_reference()
        row = TicketOutbox(
            reference=reference,
            conversation_id=conversation_id,
            purpose=purpose,
            fingerprint=request_fingerprint,
            ticket=build(reference),
            status=PENDING,
            attempts=0,
            next_attempt_at=moment,
            created_at=moment,
            updated_at=moment,
        )
        try:
            with session() as s, s.begin():
                s.add(row)
            return row, True
        except IntegrityError:  # that reference exists already: draw another
            continue
    raise RuntimeError("no free ticket reference")


def get(reference: str) -> Optional[TicketOutbox]:
    with session() as s:
        return s.get(TicketOutbox, reference)


def claim(reference: str, hold_seconds: int) -> Optional[TicketOutbox]:
    """Takes a pending ticket for one attempt (no other attempt may run until `hold_seconds` have passed);
    None if it is no longer pending or another attempt holds it."""
    moment = now()
    with session() as s, s.begin():
        taken = s.execute(
            update(TicketOutbox)
            .where(
                TicketOutbox.reference == reference,
                TicketOutbox.status == PENDING,
                or_(TicketOutbox.claimed_until.is_(None), TicketOutbox.claimed_until < moment),
            )
            .values(
                claimed_until=moment + timedelta(seconds=hold_seconds),
                attempts=TicketOutbox.attempts + 1,
                updated_at=moment,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            return None
    return get(reference)


def mark_created(reference: str, zendesk_id: int) -> None:
    _set(reference, status=CREATED, zendesk_id=zendesk_id, claimed_until=None, last_error=None)


def mark_retry(reference: str, error: str, delay_seconds: float) -> None:
    _set(
        reference, claimed_until=None, last_error=error[:300], next_attempt_at=now() + timedelta(seconds=delay_seconds)
    )


def mark_refused(reference: str, error: str) -> None:
    """Zendesk refused the ticket itself (422): kept, never dropped, for someone to look at."""
    _set(reference, status=REFUSED, claimed_until=None, last_error=error[:300])


def _set(reference: str, **values: Any) -> None:
    with session() as s, s.begin():
        s.execute(
            update(TicketOutbox)
            .where(TicketOutbox.reference == reference)
            .values(updated_at=now(), **values)
            .execution_options(synchronize_session=False)
        )


def due(limit: int, everything: bool = False) -> List[str]:
    """Pending tickets whose next attempt is due (all pending ones with `everything`), oldest first."""
    moment = now()
    query = select(TicketOutbox.reference).where(
        TicketOutbox.status == PENDING, or_(TicketOutbox.claimed_until.is_(None), TicketOutbox.claimed_until < moment)
    )
    if not everything:
        query = query.where(TicketOutbox.next_attempt_at <= moment)
    with session() as s:
        return list(s.execute(query.order_by(TicketOutbox.created_at).limit(limit)).scalars())
