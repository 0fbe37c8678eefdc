"""What an agent should know of a customer beyond this conversation: the other channels where they proved
the same line or contract, what was said there lately, and how their recent conversations ended.

Links come from actions/identity/sessions.py (channel_link), outcomes from actions/outcomes.py, the other
conversations' messages from Rasa's tracker store (TRACKER_DB_URL), always redacted.
"""

import json
import logging
from datetime import datetime, timezone
from typing import List

from sqlalchemy import create_engine, select, text

from common import config
from common.state import db
from common.state.care_kpi import ConversationOutcome, session
from privacy.redaction import redact_text

logger = logging.getLogger(__name__)
MESSAGES_PER_CHANNEL = 8
OUTCOMES = 5


def recent_messages(conversation_id: str, limit: int = MESSAGES_PER_CHANNEL) -> List[str]:
    """The last customer and assistant texts of another conversation, from the tracker store, redacted."""
    try:
        engine = create_engine(config.TRACKER_DB_URL, future=True)
        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT type_name, timestamp, data FROM events WHERE sender_id = :s "
                    "AND type_name IN ('user', 'bot') ORDER BY id DESC LIMIT :n"
                ),
                {"s": conversation_id, "n": limit},
            ).fetchall()
    except Exception as error:  # no tracker store yet, or unreachable: the ticket goes without it
        logger.info("no history for %s: %s", conversation_id, type(error).__name__)
        return []
    lines = []
    for kind, moment, data in reversed(rows):
        said = (json.loads(data or "{}").get("text") or "").strip()
        if not said or said.startswith("/") or said.startswith("EXTERNAL"):
            continue
        who = "Customer" if kind == "user" else "Assistant"
        said = redact_text(said, answering_code=kind == "user")
        lines.append(f"[{datetime.fromtimestamp(moment, timezone.utc):%Y-%m-%d %H:%M}] {who}: {said}")
    return lines


def other_channels(subject: str, conversation_id: str) -> List[str]:
    """Lines for an agent's note: each other channel of this customer, then its recent messages."""
    lines = []
    for link in db.linked_conversations(subject):
        if link.conversation_id == conversation_id:
            continue
        lines.append(
            f"- {link.channel} user {link.conversation_id}, verified {link.last_verified_at:%Y-%m-%d %H:%M} UTC"
        )
        lines.extend(f"    {m}" for m in recent_messages(link.conversation_id))
    return lines


def recent_outcomes(subject: str) -> List[str]:
    with session() as s:
        rows = (
            s.execute(
                select(ConversationOutcome)
                .where(ConversationOutcome.subject == subject)
                .order_by(ConversationOutcome.recorded_at.desc())
                .limit(OUTCOMES)
            )
            .scalars()
            .all()
        )
    return [f"- {r.recorded_at:%Y-%m-%d %H:%M} {r.channel}: {r.topic or '?'} ({r.outcome})" for r in rows]


def history_note(subject: str, conversation_id: str) -> List[str]:
    """The section an agent's ticket gets about the customer's other channels and recent journeys."""
    if not subject:
        return []
    found = []
    channels = other_channels(subject, conversation_id)
    if channels:
        found += ["", "The same customer on other channels:"] + channels
    journeys = recent_outcomes(subject)
    if journeys:
        found += ["", "Recent journeys:"] + journeys
    return found


def channels_summary(subject: str, conversation_id: str) -> str:
    """'whatsapp 2290197000001, messenger 7712' for a handoff's metadata."""
    return ", ".join(
        f"{link.channel} {link.conversation_id}"
        for link in db.linked_conversations(subject or "")
        if link.conversation_id != conversation_id
    )
