"""The verified identity of a conversation, and the check every account action makes.

The only source of truth is this table, written by the identification actions after a code or a
document was checked. Slots and entities (which anyone can type: /check_balance{"phone_number": ...})
are never trusted for who the customer is.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from common import config
from common.clock import aware, now
from common.state.db import ChannelLink, VerifiedIdentity, session


@dataclass(frozen=True)
class Identity:
    conversation_id: str
    subject: str  # line:+229... or contract:HG-...
    method: str
    verified_at: datetime

    @property
    def kind(self) -> str:
        return self.subject.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.subject.split(":", 1)[1]


def verify(conversation_id: str, subject: str, method: str, channel: Optional[str] = None) -> Identity:
    """Records that this conversation proved it holds `subject` (replacing any earlier identity), and
    links the channel user to the customer for their history on other channels."""
    moment = now()
    with session() as s, s.begin():
        row = s.get(VerifiedIdentity, conversation_id) or VerifiedIdentity(conversation_id=conversation_id)
        row.subject, row.method, row.verified_at, row.last_seen_at = subject, method, moment, moment
        s.add(row)
        link = s.get(ChannelLink, (conversation_id, subject))
        if link is None:
            s.add(
                ChannelLink(
                    conversation_id=conversation_id,
                    subject=subject,
                    channel=channel or "unknown",
                    first_linked_at=moment,
                    last_verified_at=moment,
                )
            )
        else:
            link.last_verified_at = moment
    return Identity(conversation_id, subject, method, moment)


def forget(conversation_id: str) -> Optional[str]:
    """Ends the identity (logout); answers the subject it was about."""
    with session() as s, s.begin():
        row = s.get(VerifiedIdentity, conversation_id)
        if row is None:
            return None
        s.delete(row)
        return row.subject


def current(conversation_id: str, touch: bool = True) -> Optional[Identity]:
    """The conversation's identity if it is still fresh (idle timeout), else None; `touch` keeps it alive."""
    with session() as s, s.begin():
        row = s.get(VerifiedIdentity, conversation_id)
        if row is None:
            return None
        if aware(row.last_seen_at) < now() - timedelta(minutes=config.IDENTITY_IDLE_MINUTES):
            s.delete(row)
            return None
        if touch:
            row.last_seen_at = now()
        return Identity(row.conversation_id, row.subject, row.method, aware(row.verified_at))


def authorise(conversation_id: str, subject: Optional[str] = None) -> Optional[Identity]:
    """The identity allowed to act for this conversation, or None.

    With `subject`, also requires that the conversation's identity is exactly that line or contract:
    holding one line never gives access to another.
    """
    identity = current(conversation_id)
    if identity is None or (subject is not None and identity.subject != subject):
        return None
    return identity
