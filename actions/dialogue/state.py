"""The journey slots, owned here and only here. Every other module reads and writes them through these
functions, so what "a journey is waiting for an answer" means is decided in one place:

  pending_journey        the journey the customer's next answer belongs to (or resumes after identification)
  awaiting_answer        that journey asked a question: a typed value, a yes or a no goes back to it
  awaiting_confirmation  the question is "shall I move this money?": yes confirms, no cancels
  journey_draft          the choices gathered so far ({"journey", "values", "asking", "options", "at"})

They only route the conversation. Who the customer is, and what money may move, are decided server-side
(actions/identity/sessions.py, actions/dialogue/operations.py): a forged slot reaches nothing.
"""

from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

PENDING = "pending_journey"
AWAITING_ANSWER = "awaiting_answer"
AWAITING_CONFIRMATION = "awaiting_confirmation"
DRAFT_SLOT = "journey_draft"


def asking(journey: str, draft: Optional[Dict[str, Any]] = None) -> List[EventType]:
    """`journey` asked the customer a question (a value, a yes / no): the answer goes back to it."""
    events = [SlotSet(PENDING, journey), SlotSet(AWAITING_ANSWER, True), SlotSet(AWAITING_CONFIRMATION, False)]
    return ([SlotSet(DRAFT_SLOT, draft)] if draft is not None else []) + events


def confirming(journey: str, draft: Dict[str, Any]) -> List[EventType]:
    """`journey` proposed a money move: yes confirms it, no cancels it."""
    return [
        SlotSet(DRAFT_SLOT, draft),
        SlotSet(PENDING, journey),
        SlotSet(AWAITING_ANSWER, True),
        SlotSet(AWAITING_CONFIRMATION, True),
    ]


def resuming(journey: Optional[str]) -> List[EventType]:
    """After identification, `journey` (if any) is served: nothing is asked of the customer yet."""
    return [SlotSet(PENDING, journey)]


def end_journey() -> List[EventType]:
    """Nothing is pending any more."""
    return [
        SlotSet(DRAFT_SLOT, None),
        SlotSet(PENDING, None),
        SlotSet(AWAITING_ANSWER, False),
        SlotSet(AWAITING_CONFIRMATION, False),
    ]


def pending(tracker: Tracker) -> Optional[str]:
    """The journey named as pending (waiting for an answer, or to resume after identification)."""
    return tracker.get_slot(PENDING)


def waiting_journey(tracker: Tracker) -> Optional[str]:
    """The journey waiting for the customer's answer, if one is."""
    return tracker.get_slot(PENDING) if tracker.get_slot(AWAITING_ANSWER) else None


def is_waiting(tracker: Tracker) -> bool:
    return bool(tracker.get_slot(AWAITING_ANSWER))


def is_confirming(tracker: Tracker) -> bool:
    return bool(tracker.get_slot(AWAITING_CONFIRMATION))


def draft_of(tracker: Tracker) -> Dict[str, Any]:
    return tracker.get_slot(DRAFT_SLOT) or {}


def waits_for_answer(events: Iterable[EventType]) -> bool:
    """Did an action end its turn on a question (an amount, a yes) rather than an answer?"""
    return any(
        e.get("event") == "slot" and e.get("name") in (AWAITING_ANSWER, AWAITING_CONFIRMATION) and e.get("value")
        for e in events or []
    )
