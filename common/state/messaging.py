"""What the Meta channel connectors (connectors/whatsapp.py, connectors/messenger.py) keep between webhooks.

- Each inbound message id, written before the message is handled: Meta redelivers webhooks (no 200 in
  time, or its own retries), and a redelivery must not be answered twice.
- When each customer last wrote: both platforms accept free-form messages only within 24 hours of it.
- Button payloads too long for the platform's id field, under a short key.
"""
import hashlib
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import Column, DateTime, String, Text, delete, update
from sqlalchemy.exc import IntegrityError

from common.state import db
from common.state.db import Base
from common import clock

KEY_PREFIX = "k:"


class MetaInboundMessage(Base):
    __tablename__ = "meta_inbound_message"
    message_id = Column(String(255), primary_key=True)  # wamid.… or Messenger's mid
    channel = Column(String(16), nullable=False)
    sender_id = Column(String(64), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False)  # when the current attempt took it
    completed_at = Column(DateTime(timezone=True), nullable=True)  # None: being handled right now


class MessagingWindow(Base):
    __tablename__ = "meta_messaging_window"
    channel = Column(String(16), primary_key=True)
    user_id = Column(String(64), primary_key=True)  # wa_id, or the page-scoped id on Messenger
    last_inbound_at = Column(DateTime(timezone=True), nullable=False)


class ButtonPayload(Base):
    __tablename__ = "meta_button_payload"
    key = Column(String(40), primary_key=True)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


session = db.session  # db.engine() creates these tables too, whenever this module is imported


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- inbound messages: each handled once ------------------------------------------------------------

def claim_message(message_id: str, channel: str, sender_id: str, stale_after_seconds: int) -> str:
    """"claimed" (this caller handles it), "done" (handled already) or "busy" (another delivery is handling
    it now; one at it for longer than `stale_after_seconds` is presumed dead and taken over)."""
    for _ in range(3):
        now = clock.now()
        try:
            with session() as s, s.begin():
                s.add(MetaInboundMessage(message_id=message_id, channel=channel, sender_id=sender_id,
                                         received_at=now))
            return "claimed"
        except IntegrityError:
            pass
        with session() as s, s.begin():
            row = s.get(MetaInboundMessage, message_id)
            if row is None:  # released in between: insert again
                continue
            if row.completed_at is not None:
                return "done"
            taken = s.execute(update(MetaInboundMessage).where(
                MetaInboundMessage.message_id == message_id, MetaInboundMessage.completed_at.is_(None),
                MetaInboundMessage.received_at < now - timedelta(seconds=stale_after_seconds))
                .values(received_at=now).execution_options(synchronize_session=False))
            return "claimed" if taken.rowcount == 1 else "busy"
    return "busy"


def complete_message(message_id: str) -> None:
    with session() as s, s.begin():
        s.execute(update(MetaInboundMessage).where(MetaInboundMessage.message_id == message_id)
                  .values(completed_at=clock.now()))


def release_message(message_id: str) -> None:
    """Forgets a message that could not be handled, so Meta's next delivery of it is."""
    with session() as s, s.begin():
        s.execute(delete(MetaInboundMessage).where(MetaInboundMessage.message_id == message_id,
                                                   MetaInboundMessage.completed_at.is_(None)))


# --- the customer-service window -------------------------------------------------------------------

def note_inbound(channel: str, user_id: str, at: datetime) -> None:
    """The customer wrote at `at`; an older redelivery never moves the window back."""
    with session() as s, s.begin():
        row = s.get(MessagingWindow, (channel, user_id))
        if row is None:
            s.add(MessagingWindow(channel=channel, user_id=user_id, last_inbound_at=at))
        elif _utc(row.last_inbound_at) < at:
            row.last_inbound_at = at


def last_inbound(channel: str, user_id: str) -> Optional[datetime]:
    with session() as s:
        row = s.get(MessagingWindow, (channel, user_id))
        return _utc(row.last_inbound_at) if row else None


# --- long button payloads ---------------------------------------------------------------------------

def key_for(payload: str) -> str:
    """A short id standing for `payload` (the same payload always gets the same key)."""
    key = KEY_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:32]
    try:
        with session() as s, s.begin():
            if s.get(ButtonPayload, key) is None:
                s.add(ButtonPayload(key=key, payload=payload, created_at=clock.now()))
    except IntegrityError:  # written at the same moment by another reply
        pass
    return key


def payload_for(key: str) -> Optional[str]:
    with session() as s:
        row = s.get(ButtonPayload, key)
        return row.payload if row else None
