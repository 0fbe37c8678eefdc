"""Recorded conversations for the console's tests, and the figures worked out by hand from them.

Written as the running assistant writes them: events by Rasa's own tracker store (the one endpoints.yml uses),
outcomes through actions.outcomes.record with the tracker the action server sees, NPS answers as nps_survey rows.
"Now" is tests/clock.py's DEFAULT_INSTANT, 2026-12-02 15:00 UTC; the period is 2026-11-30..2026-12-02 (UTC days).

  sender        session start (UTC)   customer messages (intent)                       channel   lang  outcome (topic)
  amy           11-30 09:00 (A1)      09:00:05 check_balance, 09:01 top_up             rest      fr    self_served (top_up)
  amy           12-01 10:00 (A2)      10:00:05 create_ticket                           rest      fr    ticket (billing)
  bob           11-30 20:00 (B1)      20:00:05 ask_faq                                 whatsapp  es    help_centre (ask_faq:42)
  bob           12-02 08:00 (B2)      08:00:05 nlu_fallback, 08:00:30 nlu_fallback     whatsapp  es    none: abandoned
  cat           12-01 12:00 (C1)      12:00:05 human_handoff                           socketio  en    handoff (network)
  dan           12-02 14:50 (D1)      14:50:05 check_balance                           rest      en    none: in progress
  fay           12-02 09:00 (F1)      09:00:05 top_up                                  socketio  es    self_served (top_up)
  eve           11-10 10:00           10:00:05 check_balance                           rest      fr    (before the period)

By hand, for the period:
  daily active users: 11-30 amy, bob = 2; 12-01 amy, cat = 2; 12-02 bob, dan, fay = 3; average 7/3 = 2.33
  monthly active users (11-03..12-02): amy, bob, cat, dan, fay, eve = 6
  conversations 7: self_served 2 (A1, F1), help_centre 1, ticket 1, handoff 1, abandoned 1, in_progress 1
  deflection = (2 + 1) / (2 + 1 + 1 + 1) = 60.0 %; containment = 1 - 2 / (5 + 1 abandoned) = 66.7 %
  customer messages 9, of which 2 nlu_fallback: fallback rate 22.2 %
  NPS answers: 10 (11-30), 9 (12-01), 3 and 8 (12-02): 2 promoters, 1 passive, 1 detractor: (2 - 1) / 4 = +25.0
  journeys started / completed: top_up 2/2, check_balance 2/0, ask_faq 1/1, create_ticket 1/1, human_handoff 1/1
  ticket reasons: billing 1; handoff reasons: network 1
  whatsapp only: conversations 2 (B1 help_centre, B2 abandoned), deflection 100.0 %, daily active users 1, 0, 1
"""

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions import outcomes
from common.state.care_kpi import NpsSurvey, session
from privacy.tracker_store import RedactingSQLTrackerStore

FIRST, LAST = "2026-11-30", "2026-12-02"
EXPECTED = {
    "daily_active_users_average": "2.33",
    "monthly_active_users": "6",
    "conversations": "7",
    "deflection_rate": "60.0 %",
    "containment_rate": "66.7 %",
    "nps": "+25.0",
    "nps_responses": "4",
    "fallback_rate": "22.2 %",
}


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def conversation(start: float, language: str, channel: str, messages):
    """The events Rasa logs for one session: its start, the language slot, then each message and a reply."""
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        SlotSet("language", language, timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    for moment, intent in messages:
        events += [
            UserUttered(
                "a message", intent={"name": intent, "confidence": 0.9}, input_channel=channel, timestamp=moment
            ),
            BotUttered("a reply", timestamp=moment + 1),
            ActionExecuted("action_listen", timestamp=moment + 1),
        ]
    return events


def record(sender: str, events, outcome: str, topic: str) -> None:
    """What the action server does: record() with the tracker of that session."""
    language = next(e.value for e in events if isinstance(e, SlotSet) and e.key == "language")
    tracker = Tracker(
        sender_id=sender,
        slots={"language": language},
        latest_message={},
        events=[e.as_dict() for e in events],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )
    outcomes.record(tracker, outcome, topic=topic)


def answer(sender: str, score: int, answered: datetime, channel: str, language: str, market: str) -> NpsSurvey:
    return NpsSurvey(
        subject=f"sender:{sender}",
        conversation_id=sender,
        source="asked",
        stage="done",
        asked_at=answered,
        score=score,
        answered_at=answered,
        channel=channel,
        language=language,
        market=market,
    )


def seed(tracker_db: Path) -> None:
    """The conversations of the table above: events into `tracker_db`, the rest into the assistant database."""
    a1 = conversation(
        at(11, 30, 9), "fr", "rest", [(at(11, 30, 9, 0, 5), "check_balance"), (at(11, 30, 9, 1), "top_up")]
    )
    a2 = conversation(at(12, 1, 10), "fr", "rest", [(at(12, 1, 10, 0, 5), "create_ticket")])
    b1 = conversation(at(11, 30, 20), "es", "whatsapp", [(at(11, 30, 20, 0, 5), "ask_faq")])
    b2 = conversation(
        at(12, 2, 8), "es", "whatsapp", [(at(12, 2, 8, 0, 5), "nlu_fallback"), (at(12, 2, 8, 0, 30), "nlu_fallback")]
    )
    c1 = conversation(at(12, 1, 12), "en", "socketio", [(at(12, 1, 12, 0, 5), "human_handoff")])
    d1 = conversation(at(12, 2, 14, 50), "en", "rest", [(at(12, 2, 14, 50, 5), "check_balance")])
    f1 = conversation(at(12, 2, 9), "es", "socketio", [(at(12, 2, 9, 0, 5), "top_up")])
    e1 = conversation(at(11, 10, 10), "fr", "rest", [(at(11, 10, 10, 0, 5), "check_balance")])
    store = RedactingSQLTrackerStore(dialect="sqlite", db=str(tracker_db))
    for sender, events in {"amy": a1 + a2, "bob": b1 + b2, "cat": c1, "dan": d1, "fay": f1, "eve": e1}.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    record("amy", a1, "self_served", "top_up")
    record("amy", a2, "ticket", "billing")
    record("bob", b1, "help_centre", "ask_faq:42")
    record("cat", c1, "handoff", "network")
    record("fay", f1, "self_served", "top_up")
    with session() as s, s.begin():
        s.add_all(
            [
                answer("amy", 10, datetime(2026, 11, 30, 9, 5), "rest", "fr", "BJ"),
                answer("cat", 9, datetime(2026, 12, 1, 12, 30), "socketio", "en", "unknown"),
                answer("bob", 3, datetime(2026, 12, 2, 8, 1), "whatsapp", "es", "GT"),
                answer("fay", 8, datetime(2026, 12, 2, 9, 5), "socketio", "es", "GT"),
            ]
        )
