"""What the Meta channel connectors (connectors/whatsapp.py, connectors/messenger.py) keep between webhooks.

- When each customer last wrote: both platforms accept free-form messages only within 24 hours of it.
- Button payloads too long for the platform's id field, under a short key.
"""

import hashlib
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import Column, DateTime, String, Text
from sqlalchemy.exc import IntegrityError

from common import clock
from common.state import db
from common.state.db import Base

KEY_PREFIX = "k:"


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
            row = s.get(ButtonPayload, key)
            if row is None:
                s.add(ButtonPayload(key=key, payload=payload, created_at=clock.now()))
            else:  # sent again: kept as long as its latest use (common/state/retention.py)
                row.created_at = clock.now()
    except IntegrityError:  # written at the same moment by another reply
        pass
    return key


def payload_for(key: str) -> Optional[str]:
    with session() as s:
        row = s.get(ButtonPayload, key)
        return row.payload if row else None
