"""Conversations as Rasa's tracker store recorded them, with the outcomes the actions recorded, and the formulas
every figure uses (README "KPIs: definitions"). The one implementation behind `make kpi` and the dashboard."""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import bindparam, create_engine, select, text

from actions.outcomes import ABANDONED, OUTCOMES, strongest
from common import config
from common.state.care_kpi import ConversationOutcome, NpsSurvey, session

IN_PROGRESS = "in_progress"
RESOLVED, ESCALATED = ("self_served", "help_centre"), ("ticket", "handoff")
MAU_DAYS = 30
FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier names a message it did not understand
# an outcome belongs to the session that started at its session_start (both Rasa's clock); a little slack
MATCH_SLACK_SECONDS = 1.0
SENDERS_PER_QUERY = 500  # under SQLite's 999 bound parameters
# A journey is an intent with its own action module (README "Journeys: one name in every layer").
JOURNEY_MODULES = Path(__file__).resolve().parent.parent / "actions" / "journeys"
NOT_JOURNEYS = {"__init__", "catalogue"}
# These two record their outcome under the ticket's or the handoff's topic: they complete with that outcome.
COMPLETED_BY_OUTCOME = {"create_ticket": "ticket", "human_handoff": "handoff"}


def journeys() -> List[str]:
    return sorted(p.stem for p in JOURNEY_MODULES.glob("*.py") if p.stem not in NOT_JOURNEYS)


@dataclass
class Conversation:
    """One conversation session of one sender (Rasa's SessionStarted to the next one) with user messages."""

    sender_id: str
    start: float
    first_message: Optional[float] = None
    last_event: float = 0.0
    channel: str = "unknown"
    language: Optional[str] = None
    outcomes: List[ConversationOutcome] = field(default_factory=list)
    followed: bool = False  # a later session of the same sender started: this one is over
    messages: List[float] = field(default_factory=list)  # when the customer wrote
    intents: List[str] = field(default_factory=list)  # what NLU understood of each customer message

    def outcome(self, now: float) -> str:
        best = strongest(o.outcome for o in self.outcomes)
        if best:
            return best
        idle = now - self.last_event >= config.CONVERSATION_IDLE_MINUTES * 60
        return ABANDONED if idle or self.followed else IN_PROGRESS

    def attribute(self, name: str) -> str:
        """channel, language or market: as recorded with the outcome, else as the tracker shows it."""
        recorded = [getattr(o, name) for o in self.outcomes if getattr(o, name) not in (None, "", "unknown")]
        if recorded:
            return recorded[-1]
        if name == "channel":
            return self.channel
        if name == "language":
            return self.language or "unknown"
        return config.LANGUAGE_REGIONS.get(self.language or "", "unknown")

    def journeys_started(self, names: Iterable[str]) -> List[str]:
        return sorted(set(self.intents) & set(names))

    def journeys_completed(self, names: Iterable[str]) -> List[str]:
        """Journeys that recorded an outcome under their own name (a balance shown, an article found), and the
        ticket and handoff journeys once a ticket was opened or a person took over."""
        done = {(o.topic or "").split(":")[0] for o in self.outcomes}
        done |= {j for j, outcome in COMPLETED_BY_OUTCOME.items() if any(o.outcome == outcome for o in self.outcomes)}
        return sorted(done & set(names))

    def reason(self) -> Optional[str]:
        """Why it went to a ticket or a person: the topic recorded with its strongest outcome."""
        best = strongest(o.outcome for o in self.outcomes)
        if best not in ESCALATED:
            return None
        return next((o.topic for o in reversed(self.outcomes) if o.outcome == best and o.topic), "unknown")


def _data(row) -> Dict[str, Any]:
    try:
        return json.loads(row.data or "{}")
    except ValueError:
        return {}


def is_customer_message(row, data: Dict[str, Any]) -> bool:
    """A user event the customer sent: not one the system injected (trigger_intent, EXTERNAL_ intents)."""
    return (
        row.type_name == "user"
        and not (data.get("metadata") or {}).get("is_external")
        and not (row.intent_name or "").startswith("EXTERNAL_")
        and not (data.get("text") or "").startswith("EXTERNAL: ")
    )


def tracker_engine(url: str):
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        raise SystemExit(f"no tracker store at {url}: no conversation yet, or set TRACKER_DB_URL")
    return create_engine(url, future=True)


def customer_messages(engine, start: float, end: float) -> List[tuple]:
    """(sender_id, timestamp) of every customer message in [start, end)."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT sender_id, type_name, timestamp, intent_name, data FROM events "
                "WHERE type_name = 'user' AND timestamp >= :a AND timestamp < :b"
            ),
            {"a": start, "b": end},
        )
        return [(r.sender_id, r.timestamp) for r in rows if is_customer_message(r, _data(r))]


def conversations(engine, senders: Iterable[str]) -> Dict[str, List[Conversation]]:
    """Every session of these senders, in order, from their events (read a few hundred senders a query)."""
    found: Dict[str, List[Conversation]] = defaultdict(list)
    ordered = sorted(set(senders))
    query = text(
        "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
        "FROM events WHERE sender_id IN :senders ORDER BY sender_id, id"
    ).bindparams(bindparam("senders", expanding=True))
    with engine.connect() as c:
        for first in range(0, len(ordered), SENDERS_PER_QUERY):
            for row in c.execute(query, {"senders": ordered[first : first + SENDERS_PER_QUERY]}):
                if row.type_name == "action" and row.action_name == "action_session_start":
                    continue  # the next session's opening, logged just before its SessionStarted
                data, sessions = _data(row), found[row.sender_id]
                if row.type_name == "session_started" or not sessions:
                    sessions.append(Conversation(row.sender_id, start=row.timestamp or 0.0))
                current = sessions[-1]
                current.last_event = max(current.last_event, row.timestamp or 0.0)
                if row.type_name == "slot" and data.get("name") == "language" and data.get("value"):
                    current.language = data["value"]
                if is_customer_message(row, data):
                    if current.first_message is None:
                        current.first_message = row.timestamp
                        current.channel = data.get("input_channel") or "unknown"
                    current.messages.append(row.timestamp)
                    current.intents.append(row.intent_name or "unknown")
    for sessions in found.values():
        for earlier in sessions[:-1]:
            earlier.followed = True
    return found


def attach_outcomes(found: Dict[str, List[Conversation]]) -> None:
    """Each recorded outcome to the session of its sender that started at (or last before) its session_start."""
    senders = sorted(found)
    with session() as s:
        for first in range(0, len(senders), SENDERS_PER_QUERY):
            for row in s.execute(
                select(ConversationOutcome)
                .where(ConversationOutcome.conversation_id.in_(senders[first : first + SENDERS_PER_QUERY]))
                .order_by(ConversationOutcome.id)
            ).scalars():
                moment = (
                    row.session_start
                    if row.session_start is not None
                    else row.recorded_at.replace(tzinfo=row.recorded_at.tzinfo or timezone.utc).timestamp()
                )
                candidates = [c for c in found[row.conversation_id] if c.start <= moment + MATCH_SLACK_SECONDS]
                if candidates:
                    candidates[-1].outcomes.append(row)


def nps_answers(start: datetime, end: datetime) -> List[NpsSurvey]:
    with session() as s:
        rows = s.execute(select(NpsSurvey).where(NpsSurvey.score.is_not(None))).scalars().all()
    aware = [(r, r.answered_at.replace(tzinfo=r.answered_at.tzinfo or timezone.utc)) for r in rows if r.answered_at]
    return [r for r, at in aware if start <= at < end]


def rates(items: List[str]) -> Dict[str, Any]:
    return rates_of(Counter(items))


def rates_of(counts: Dict[str, int]) -> Dict[str, Any]:
    """Conversations, each outcome, deflection and containment from how many conversations had each outcome."""
    counts = Counter(counts)
    resolved, escalated = sum(counts[o] for o in RESOLVED), sum(counts[o] for o in ESCALATED)
    ended = resolved + escalated + counts[ABANDONED]
    return {
        "conversations": sum(counts[o] for o in OUTCOMES + (ABANDONED, IN_PROGRESS)),
        "outcomes": {o: counts[o] for o in OUTCOMES + (ABANDONED, IN_PROGRESS)},
        # resolved without a ticket or a person, among conversations whose outcome is known
        "deflection_rate": resolved / (resolved + escalated) if resolved + escalated else None,
        # not escalated, among every ended conversation (abandoned ones count as contained)
        "containment_rate": 1 - escalated / ended if ended else None,
    }


def nps(scores: List[int]) -> Dict[str, Any]:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return nps_of(promoters, len(scores) - promoters - detractors, detractors)


def nps_of(promoters: int, passives: int, detractors: int) -> Dict[str, Any]:
    """NPS = % promoters (9-10) - % detractors (0-6), from -100 to +100, with the counts."""
    responses = promoters + passives + detractors
    return {
        "responses": responses,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "nps": 100 * (promoters - detractors) / responses if responses else None,
    }


def fallback_rate(messages: int, fallbacks: int) -> Optional[float]:
    """Customer messages NLU did not understand (nlu_fallback), over every customer message."""
    return fallbacks / messages if messages else None
