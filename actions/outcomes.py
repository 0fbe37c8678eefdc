"""How each conversation ended, with its channel, language and market: what `make kpi` counts.

Actions call `record(tracker, outcome, topic)` when they resolve the customer's need:
  self_served  a journey answered or completed on the operator's systems (balance shown, top-up done...)
  help_centre  a Help Center article answered the question
  ticket       a ticket was opened
  handoff      the conversation went to a person
A conversation may record several; the strongest counts (handoff > ticket > help_centre > self_served),
so a balance shown before a ticket still counts as a ticket. A conversation with user messages and no
outcome is "abandoned" (scripts/kpi.py works that out from Rasa's tracker store).
Recording never interrupts the conversation: a failure is logged and forgotten.
"""

import logging
from typing import Iterable, Optional

import phonenumbers
from rasa_sdk import Tracker
from rasa_sdk.events import EventType

from actions.backends import bss
from actions.dialogue import state
from actions.i18n import language_of
from actions.identity import sessions
from clients.bss import Line
from common import config
from common.state import care_kpi

logger = logging.getLogger(__name__)
# weakest first: a conversation's outcome is the strongest it recorded
OUTCOMES = ("self_served", "help_centre", "ticket", "handoff")
ABANDONED = "abandoned"


def strongest(outcomes: Iterable[str]) -> Optional[str]:
    found = [o for o in outcomes if o in OUTCOMES]
    return max(found, key=OUTCOMES.index) if found else None


def session_start(tracker: Tracker) -> Optional[float]:
    """When Rasa started this conversation session (its clock), so the outcome joins the right conversation."""
    return next(
        (
            e.get("timestamp")
            for e in reversed(tracker.events or [])
            if e.get("event") == "session_started" and e.get("timestamp") is not None
        ),
        None,
    )


def subject_of(tracker: Tracker, line: Optional[Line] = None) -> str:
    if line is not None:
        return line.subject
    identity = sessions.current(tracker.sender_id, touch=False)
    return identity.subject if identity else f"sender:{tracker.sender_id}"


def market_of(tracker: Tracker, subject: str, line: Optional[Line] = None) -> str:
    """The identified line's market, else the one its number belongs to, else the language's, else unknown."""
    if line is not None and line.market:
        return line.market
    kind, _, value = subject.partition(":")
    try:
        if kind == "line":
            return phonenumbers.region_code_for_number(phonenumbers.parse(value)) or "unknown"
        if kind == "contract":
            contract = bss().contract(value)
            if contract is not None and contract.market:
                return contract.market
    except Exception as error:  # noqa: BLE001 - a statistic is not worth failing a conversation
        logger.info("market of %s unknown: %s", subject, error)
    return config.LANGUAGE_REGIONS.get(tracker.get_slot("language") or "", "unknown")


def record(tracker: Tracker, outcome: str, topic: Optional[str] = None, line: Optional[Line] = None) -> None:
    """Records how this conversation was resolved (see OUTCOMES). `line`: the verified line, if at hand."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    try:
        subject = subject_of(tracker, line)
        care_kpi.record_outcome(
            outcome,
            conversation_id=tracker.sender_id,
            session_start=session_start(tracker),
            channel=tracker.get_latest_input_channel() or "unknown",
            language=language_of(tracker),
            market=market_of(tracker, subject, line),
            subject=subject,
            topic=topic,
        )
    except Exception:  # noqa: BLE001
        logger.exception("could not record the outcome %s of %s", outcome, tracker.sender_id)


def served(tracker: Tracker, action, line: Line, events: Iterable[EventType]) -> None:
    """After an account journey's `serve`: self-served, unless it is still asking something or the
    action records its own outcome (`self_serves = False`: a money move counts once it is done)."""
    if action.self_serves and not state.waits_for_answer(events):
        record(tracker, "self_served", topic=action.intent or action.name(), line=line)
