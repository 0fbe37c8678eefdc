"""What a messaging channel remembers per conversation, between webhooks: who answers it (the bot or an
agent, after a handoff) and the options it last offered as a numbered list (so a typed "2" picks the second).

Keyed by the channel's own conversation id (e.g. a Sunshine Conversations conversation id).
"""

from datetime import datetime
from typing import List, Optional, Tuple

from sqlalchemy import JSON, Column, DateTime, String, delete
from sqlalchemy.exc import IntegrityError

from common.clock import aware, now
from common.state import db

BOT, AGENT = "bot", "agent"


class ConversationOwner(db.Base):
    """Who answers the conversation now. No row: the bot (the default responder)."""

    __tablename__ = "conversation_owner"
    conversation_id = Column(String(128), primary_key=True)
    owner = Column(String(8), nullable=False)  # bot or agent
    # When the change happened on the platform (its event's createdAt, or our own passControl): an older
    # event delivered late must not undo a newer change.
    changed_at = Column(DateTime(timezone=True), nullable=False)
    reason = Column(String(64), nullable=True)  # handoff, switchboard:passControl, ticketClosed...
    language = Column(String(8), nullable=True)  # the conversation's language at the handoff


class OfferedChoices(db.Base):
    """The options last sent as a numbered text list (more than the platform's buttons allow)."""

    __tablename__ = "offered_choices"
    conversation_id = Column(String(128), primary_key=True)
    choices = Column(JSON, nullable=False)  # [[title, payload], ...] in the order they were numbered
    offered_at = Column(DateTime(timezone=True), nullable=False)


_session = db.session  # db.engine() creates these tables too, whenever this module is imported


def owner(conversation_id: str) -> str:
    with _session() as s:
        row = s.get(ConversationOwner, conversation_id)
        return row.owner if row else BOT


def owner_record(conversation_id: str) -> Optional[ConversationOwner]:
    with _session() as s:
        return s.get(ConversationOwner, conversation_id)


def set_owner(
    conversation_id: str, new_owner: str, at: Optional[datetime] = None, reason: str = None, language: str = None
) -> Tuple[str, bool]:
    """Records who owns the conversation since `at` (default now), unless a later change is already known.
    Answers (the owner before, whether this changed anything)."""
    at = at or now()
    for attempt in range(2):
        try:
            with _session() as s, s.begin():
                row = s.get(ConversationOwner, conversation_id)
                if row is None:
                    s.add(
                        ConversationOwner(
                            conversation_id=conversation_id,
                            owner=new_owner,
                            changed_at=at,
                            reason=reason,
                            language=language,
                        )
                    )
                    return BOT, new_owner != BOT
                before = row.owner
                if aware(row.changed_at) > at:
                    return before, False
                row.owner, row.changed_at, row.reason = new_owner, at, reason
                if language:
                    row.language = language
                return before, before != new_owner
        except IntegrityError:  # another delivery created the row at the same moment: update it instead
            if attempt:
                raise
    raise AssertionError("unreachable")


def offer_choices(conversation_id: str, choices: List[Tuple[str, str]]) -> None:
    """Remembers a numbered list just sent; an empty list forgets the previous one (the bot moved on)."""
    with _session() as s, s.begin():
        s.execute(delete(OfferedChoices).where(OfferedChoices.conversation_id == conversation_id))
        if choices:
            s.add(OfferedChoices(conversation_id=conversation_id, choices=[list(c) for c in choices], offered_at=now()))


def offered_choices(conversation_id: str) -> List[Tuple[str, str]]:
    with _session() as s:
        row = s.get(OfferedChoices, conversation_id)
        return [tuple(c) for c in row.choices] if row else []
