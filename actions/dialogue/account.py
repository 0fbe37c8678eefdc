"""What every account journey shares: the server-side identity check, the line it acts on, and
clear answers when the operator's systems fail. (Journeys of several turns: actions/dialogue/steps.py.)

A journey subclasses AccountAction and implements `serve(dispatcher, tracker, domain, line)`.
`run` refuses to serve anyone whose conversation has not proved, server-side and recently, that
it holds the line or contract (identity.sessions). Slots never decide who the customer is.
"""
import logging
import re
from abc import ABC, abstractmethod
from typing import Dict, List, Optional, Text, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from common import config
from clients import BackendError, BackendUnavailable
from clients.bss import BSSClient, Line
from actions.i18n import say
from actions.identity import sessions

logger = logging.getLogger(__name__)
# intent -> the action that serves it, so identification can resume the journey it interrupted
JOURNEYS: Dict[str, Type["AccountAction"]] = {}
_bss: Optional[BSSClient] = None


def bss() -> BSSClient:
    global _bss
    if _bss is None:
        _bss = BSSClient()
    return _bss


def channel_identity(tracker: Tracker) -> Optional[sessions.Identity]:
    """On a channel that proves the sender's number (WhatsApp), that number counts as verified.

    The channel name comes from Rasa (the webhook the message arrived on), not from the customer.
    It never opens another line: asking about another number still needs its SMS code.
    """
    if tracker.get_latest_input_channel() not in config.NUMBER_PROVING_CHANNELS:
        return None
    msisdn = "+" + tracker.sender_id.lstrip("+")
    if not re.fullmatch(r"\+\d{8,15}", msisdn) or bss().line(msisdn) is None:
        return None
    return sessions.verify(tracker.sender_id, f"line:{msisdn}", "channel", tracker.get_latest_input_channel())


# What identify_form fills: cleared before each new identification, so nothing stale is reused.
IDENTIFICATION_SLOTS = ("phone_number", "phone_display", "otp_code", "contract_number", "document_number", "identify_status")


def start_identification(journey: Optional[str]) -> List[EventType]:
    """Asks who the customer is from scratch, remembering which journey to resume afterwards."""
    return [SlotSet(s, None) for s in IDENTIFICATION_SLOTS] + [
        SlotSet("identified", False), SlotSet("pending_journey", journey), FollowupAction("identify_form")]


class AccountAction(Action, ABC):
    intent: Text = ""  # the intent this journey answers
    kinds = ("mobile", "home")  # which identities may use it

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.intent:
            JOURNEYS[cls.intent] = cls

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            identity = sessions.authorise(tracker.sender_id) or channel_identity(tracker)
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
            from actions import outcomes
            from actions.journeys import report_outage  # late: report_outage builds on this module
            notice = report_outage.outage_notice(dispatcher, tracker, line)  # an outage in their area comes first
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
        if identity.kind == "line":
            return bss().line(identity.value)
        return bss().contract(identity.value)

    def on_business_error(self, dispatcher: CollectingDispatcher, tracker: Tracker, error: BackendError) -> List[EventType]:
        say(dispatcher, tracker, "backend_refused")
        return []

    @abstractmethod
    async def serve(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line) -> List[EventType]:
        """Answers the customer for their verified `line`."""


def serve_pending(journey: Optional[str]) -> Optional[Type[AccountAction]]:
    return JOURNEYS.get(journey or "")
