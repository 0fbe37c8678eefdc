"""What the assistant remembers to measure itself and not to repeat itself: outage notices given,
NPS answers, and how each conversation ended. Read by scripts/kpi.py (`make kpi`)."""

from typing import Any

from sqlalchemy import Column, DateTime, Float, Integer, String, Text
from sqlalchemy.exc import IntegrityError

from common import clock
from common.state import db
from common.state.db import Base


class OutageNotice(Base):
    """A conversation was told about an incident: never twice (a slot could be reset, this cannot)."""

    __tablename__ = "outage_notice"
    conversation_id = Column(String(128), primary_key=True)
    incident_id = Column(String(64), primary_key=True)
    told_at = Column(DateTime(timezone=True), nullable=False)


class NpsSurvey(Base):
    """One "how likely are you to recommend us" question, then its answer and optional comment."""

    __tablename__ = "nps_survey"
    id = Column(Integer, primary_key=True, autoincrement=True)
    subject = Column(String(160), nullable=False, index=True)  # line:..., contract:... or sender:<id>
    conversation_id = Column(String(128), nullable=False, index=True)
    source = Column(String(16), nullable=False)  # asked (after a journey or a handoff), spontaneous, post_call
    stage = Column(String(16), nullable=False)  # score (waiting for it), comment (waiting for it), done
    asked_at = Column(DateTime(timezone=True), nullable=False)
    score = Column(Integer, nullable=True)  # 0-10
    answered_at = Column(DateTime(timezone=True), nullable=True, index=True)
    comment = Column(Text, nullable=True)  # redacted (no card-like numbers)
    channel = Column(String(32), nullable=True)
    language = Column(String(8), nullable=True)
    market = Column(String(8), nullable=True)


class ConversationOutcome(Base):
    """How a conversation ended, as the actions saw it. A conversation may record several (it answered a
    balance, then opened a ticket): scripts/kpi.py keeps the strongest. None recorded means abandoned."""

    __tablename__ = "conversation_outcome"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)  # Rasa's sender id
    session_start = Column(Float, nullable=True)  # the session's SessionStarted timestamp (Rasa's clock)
    outcome = Column(String(16), nullable=False)  # self_served, help_centre, ticket, handoff
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False)
    market = Column(String(8), nullable=False)
    subject = Column(String(160), nullable=False)
    topic = Column(String(64), nullable=True)  # the journey or question: top_up, report_outage, faq...
    recorded_at = Column(DateTime(timezone=True), nullable=False)


session = db.session  # db.engine() creates these tables too, whenever this module is imported


def record_outcome(outcome: str, **row: Any) -> None:
    """One outcome of a conversation (ConversationOutcome's columns); recorded_at is now."""
    with session() as s, s.begin():
        s.add(ConversationOutcome(outcome=outcome, recorded_at=clock.now(), **row))


def first_notice(conversation_id: str, incident_id: str, at) -> bool:
    """Records that this conversation is being told about the incident; False if it already was."""
    try:
        with session() as s, s.begin():
            s.add(OutageNotice(conversation_id=conversation_id, incident_id=incident_id, told_at=at))
        return True
    except IntegrityError:
        return False
