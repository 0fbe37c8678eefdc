"""What every account journey shares: the server-side identity check, the line it acts on, and
clear answers when the operator's systems fail. (Journeys of several turns: actions/dialogue/steps.py.)

A journey subclasses AccountAction and implements `serve(dispatcher, tracker, domain, line)`.
`run` refuses to serve anyone whose conversation has not proved, server-side and recently, that
it holds the line or contract (identity.sessions). Slots never decide who the customer is.
"""

import logging
from abc import ABC, abstractmethod
from typing import Dict, List, Optional, Text, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import outcomes
from actions.dialogue import state
from actions.i18n import say
from actions.identity import sessions, verified
from actions.outage_notice import outage_notice
from clients import BackendError, BackendUnavailable
from clients.bss import Line

logger = logging.getLogger(__name__)
# intent -> the action that serves it, so identification can resume the journey it interrupted
JOURNEYS: Dict[str, Type[Action]] = {}
# What identify_form fills: cleared before each new identification, so nothing stale is reused.
IDENTIFICATION_SLOTS = (
    "phone_number",
    "phone_display",
    "otp_code",
    "contract_number",
    "document_number",
    "identify_status",
)


def start_identification(journey: Optional[str]) -> List[EventType]:
    """Asks who the customer is from scratch, remembering which journey to resume afterwards."""
    return [SlotSet(s, None) for s in IDENTIFICATION_SLOTS] + [
        SlotSet("identified", False),
        *state.resuming(journey),
        FollowupAction("identify_form"),
    ]


def register_journey(intent: str, action: Type[Action]) -> None:
    """`action` serves the journey `intent`: identification resumes it, and the customer's answers to its
    questions go to it. It says whether a "no" answers its question (`answers_no`), else "no" stops it."""
    if not isinstance(getattr(action, "answers_no", None), bool):
        raise TypeError(f"{action.__name__} must say whether a no answers its questions (answers_no)")
    JOURNEYS[intent] = action


class AccountAction(Action, ABC):
    intent: Text = ""  # the intent this journey answers
    kinds = ("mobile", "home")  # which identities may use it
    answers_no = False  # True: a "no" while it waits for an answer goes to it (else "no" stops the journey)
    self_serves = True  # serving it counts as self-served (False: the action records its own outcome)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.intent:
            register_journey(cls.intent, cls)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            identity = sessions.authorise(tracker.sender_id) or verified.channel_identity(tracker)
        except BackendUnavailable:
            identity = None
        if identity is None:
            # No proof held server-side (never identified, logged out, idle too long, or a forged slot).
            if tracker.get_slot("identified"):
                say(dispatcher, tracker, "identity_expired")
            return self.before_identification(tracker) + start_identification(self.intent)
        try:
            line = self.line_of(identity)
            if line is None:
                say(dispatcher, tracker, "account_not_found")
                return []
            notice = outage_notice(dispatcher, tracker, line)  # an outage in their area comes first
            if line.kind not in self.kinds:
                say(dispatcher, tracker, "journey_not_for_this_line")
                return []
            if line.status == "suspended":
                say(dispatcher, tracker, "line_suspended")
                return []
            events = notice + (await self.serve(dispatcher, tracker, domain, line) or [])
            outcomes.served(tracker, self, line, events)  # self-served, unless it is still asking
            return events
        except BackendUnavailable as error:
            logger.warning("%s: operator system unavailable: %s", self.name(), error)
            say(dispatcher, tracker, "backend_unavailable")
            return []
        except BackendError as error:
            logger.warning("%s: operator system refused: %s", self.name(), error)
            return self.on_business_error(dispatcher, tracker, error) or []

    def before_identification(self, tracker: Tracker) -> List[EventType]:
        """What to keep of the customer's request while they identify (StepJourney keeps its choices)."""
        return []

    @staticmethod
    def line_of(identity: sessions.Identity) -> Optional[Line]:
        return verified.line_of(identity)

    def on_business_error(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, error: BackendError
    ) -> List[EventType]:
        say(dispatcher, tracker, "backend_refused")
        return []

    @abstractmethod
    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        """Answers the customer for their verified `line`."""


def serve_pending(journey: Optional[str]) -> Optional[Type[AccountAction]]:
    return JOURNEYS.get(journey or "")
