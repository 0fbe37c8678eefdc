"""Each channel's pace, and WhatsApp's messaging limit, held in SQL so that every sender together keeps them.

Pace: a channel's row holds its theoretical next send time (GCRA, a token bucket as one timestamp): a message
may leave when that time is less than a second ahead of now (a burst of at most one second's worth), and moves
it on by one interval. A sender takes a turn with one compare-and-set UPDATE (the row it read, still unchanged):
two senders never take the same turn, whatever the database. A platform's 429 moves it to the end of the Retry-After, so every sender waits, not only the one
that was told.

WhatsApp's messaging limit (WHATSAPP_MESSAGING_TIER): unique customers the business starts a conversation with
(a template, outside the customer-service window) in a rolling 24 hours. It is counted in the same transaction as
the turn it rides on, after the compare-and-set: a second sender's turn waits for this one to commit (PostgreSQL's
row lock, SQLite's single writer), so the count cannot be raced past the limit.
"""

from datetime import datetime, timedelta
from typing import Optional, Tuple

from sqlalchemy import Column, DateTime, String, func, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import aware, now
from common.state import db
from common.state.db import Base

GO, WAIT, OVER_LIMIT = "go", "wait", "over_limit"
LIMIT_WINDOW = timedelta(hours=24)
BURST = timedelta(seconds=1)
TRIES = 20  # compare-and-set rounds lost to other senders before waiting a turn instead


class ChannelPace(Base):
    __tablename__ = "campaign_channel_pace"
    channel = Column(String(16), primary_key=True)
    next_at = Column(DateTime(timezone=True), nullable=False)


class WhatsAppLimitUse(Base):
    """A customer the business started a WhatsApp conversation with, and when it last did."""

    __tablename__ = "whatsapp_limit_use"
    wa_id = Column(String(32), primary_key=True)
    started_at = Column(DateTime(timezone=True), nullable=False)


def _current(channel: str) -> datetime:
    with db.session() as s:
        found = s.get(ChannelPace, channel)
        if found is not None:
            return aware(found.next_at)
    try:
        with db.session() as s, s.begin():
            s.add(ChannelPace(channel=channel, next_at=now()))
    except IntegrityError:
        pass  # another sender made it first
    with db.session() as s:
        return aware(s.get(ChannelPace, channel).next_at)


def take(
    channel: str, per_minute: int, starts_conversation_with: Optional[str] = None, limit: int = 0
) -> Tuple[str, Optional[datetime]]:
    """(GO, None): send now. (WAIT, when): the channel's next turn is later. (OVER_LIMIT, None): a new WhatsApp
    conversation with `starts_conversation_with` would pass the messaging limit (`limit` > 0); nothing is taken."""
    interval = timedelta(minutes=1) / max(per_minute, 1)
    burst = max(BURST - interval, timedelta(0))
    for _ in range(TRIES):
        moment = now()
        current = _current(channel)
        if current - burst > moment:
            return WAIT, current - burst
        try:
            with db.session() as s, s.begin():
                taken = s.execute(
                    update(ChannelPace)
                    .where(ChannelPace.channel == channel, ChannelPace.next_at == current)
                    .values(next_at=max(current, moment) + interval)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if taken != 1:
                    continue  # another sender took this turn: look again
                if starts_conversation_with and limit > 0 and not _within_limit(s, starts_conversation_with, limit):
                    raise OverLimit()  # rolls the turn back: it was not used
        except OverLimit:
            return OVER_LIMIT, None
        return GO, None
    return WAIT, now() + interval


class OverLimit(Exception):
    """A new WhatsApp conversation would pass the messaging limit."""


def _within_limit(s, wa_id: str, limit: int) -> bool:
    moment = now()
    since = moment - LIMIT_WINDOW
    known = s.get(WhatsAppLimitUse, wa_id)
    if known is not None and aware(known.started_at) > since:
        return True  # already counted in this 24 hours
    others = s.execute(
        select(func.count()).select_from(WhatsAppLimitUse).where(WhatsAppLimitUse.started_at > since)
    ).scalar()
    if others >= limit:
        return False
    if known is None:
        s.add(WhatsAppLimitUse(wa_id=wa_id, started_at=moment))
    else:
        known.started_at = moment
    return True


def hold(channel: str, until: datetime) -> None:
    """The platform said 429: nobody sends on `channel` before `until`."""
    _current(channel)
    with db.session() as s, s.begin():
        s.execute(
            update(ChannelPace)
            .where(ChannelPace.channel == channel, ChannelPace.next_at < until)
            .values(next_at=until)
            .execution_options(synchronize_session=False)
        )
