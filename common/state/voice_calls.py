"""What the voice channel remembers about a call between two of Twilio's webhooks: the caller's number (a hint,
never an identity), the IVR's language, where the call is (choosing a language, or talking with the assistant),
how many silences in a row, and what was last said (repeated once on silence). Keyed by Twilio's CallSid."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String

from common.clock import now
from common.state import db

CHOOSING_LANGUAGE, TALKING, ENDED = "choosing_language", "talking", "ended"


class VoiceCall(db.Base):
    __tablename__ = "voice_call"
    call_sid = Column(String(64), primary_key=True)
    caller = Column(String(32), nullable=True)  # E.164, as Twilio gave it: a hint for routing and the SMS
    language = Column(String(8), nullable=True)  # fr, es, en, or a recorded language (fon, bba)
    stage = Column(String(24), nullable=False)
    silences = Column(Integer, nullable=False, default=0)
    last_prompt = Column(JSON, nullable=True)  # what was said last, to say again on silence
    number_offered = Column(Boolean, nullable=False, default=False)  # the caller id was given to identification
    started_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)


@dataclass
class Call:
    sid: str
    caller: Optional[str]
    language: Optional[str]
    stage: str
    silences: int = 0
    last_prompt: Dict[str, Any] = field(default_factory=dict)
    number_offered: bool = False


def find(call_sid: str) -> Optional[Call]:
    with db.session() as s:
        row = s.get(VoiceCall, call_sid)
        if row is None:
            return None
        return Call(
            row.call_sid, row.caller, row.language, row.stage, row.silences, row.last_prompt or {}, row.number_offered
        )


def save(call: Call) -> None:
    moment = now()
    with db.session() as s, s.begin():
        row = s.get(VoiceCall, call.sid)
        if row is None:
            row = VoiceCall(call_sid=call.sid, started_at=moment)
            s.add(row)
        row.caller, row.language, row.stage = call.caller, call.language, call.stage
        row.silences, row.last_prompt, row.updated_at = call.silences, call.last_prompt, moment
        row.number_offered = call.number_offered


def calls_from(caller: str) -> List[Call]:
    """The calls of one number, oldest first (tests and support read them)."""
    with db.session() as s:
        rows = s.query(VoiceCall).filter(VoiceCall.caller == caller).order_by(VoiceCall.started_at).all()
        return [
            Call(r.call_sid, r.caller, r.language, r.stage, r.silences, r.last_prompt or {}, r.number_offered)
            for r in rows
        ]
