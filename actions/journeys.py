"""What every account journey shares: the server-side identity check, the line it acts on, and
clear answers when the operator's systems fail.

A journey subclasses AccountAction and implements `serve(dispatcher, tracker, domain, line)`.
`run` refuses to serve anyone whose conversation has not proved, server-side and recently, that
it holds the line or contract (identity.sessions). Slots never decide who the customer is.
"""
import json
import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from common import config
from clients import BackendError, BackendUnavailable
from clients.bss import BSSClient, Line
from actions.i18n import language_of, say
from common.i18n import render
from actions.identity import sessions
from common import clock

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
            from actions import outages, outcomes  # late: outages builds on this module
            notice = outages.outage_notice(dispatcher, tracker, line)  # an outage in their area comes first
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


# --- journeys that take several turns ----------------------------------------------------------
# The customer's choices so far live in the `journey_draft` slot: {"journey", "values", "asking",
# "options", "at"}. They only say what to propose next: the operator checks every value again,
# and a money move only happens on the operation stored server-side (actions/operations.py).
DRAFT_SLOT = "journey_draft"
DRAFT_MINUTES = 30
# Journey state that every other journey, and every ending, clears.
STEP_SLOTS = (DRAFT_SLOT, "pending_journey", "awaiting_answer", "awaiting_confirmation")


def normalised(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return re.sub(r"\s+", " ", "".join(c for c in decomposed if not unicodedata.combining(c)).lower()).strip()


# "le deuxième", "la segunda opción", "the second one", "number 3", "n° 2", "2": a position in a list.
ORDINALS = {
    1: ("premier", "premiere", "1er", "1ere", "primero", "primera", "primer", "first", "1st"),
    2: ("deuxieme", "second", "seconde", "2e", "2eme", "segundo", "segunda", "2nd"),
    3: ("troisieme", "3e", "3eme", "tercero", "tercera", "tercer", "third", "3rd"),
    4: ("quatrieme", "4e", "cuarto", "cuarta", "fourth", "4th"),
    5: ("cinquieme", "5e", "quinto", "quinta", "fifth", "5th"),
}
LAST = ("dernier", "derniere", "ultimo", "ultima", "last")


def ordinal(typed: str) -> Optional[int]:
    """The position a typed answer names, or None; -1 for "the last one" is not supported (None)."""
    number = re.fullmatch(r"(?:(?:n(?:o|°|um(?:ero|ber)?)\.?|number|numero|option|opcion|choix)\s*)?(\d{1,2})", typed)
    if number:
        return int(number.group(1))
    words = set(re.findall(r"[a-z0-9]+", typed))
    if len(words) > 5:
        return None
    found = [n for n, names in ORDINALS.items() if words & set(names)]
    return found[0] if len(found) == 1 else None


def match_option(options: Sequence[Sequence[str]], text: str) -> Optional[str]:
    """The value of the offered option a typed answer names: its number in the list, or its title."""
    typed = normalised(text)
    if not typed or not options:
        return None
    position = ordinal(typed)
    if position is not None and 1 <= position <= len(options):
        return options[position - 1][0]
    exact = [value for value, *names in options if any(normalised(n) == typed for n in names)]
    if len(exact) == 1:
        return exact[0]
    inside = [value for value, *names in options
              if any(len(typed) >= 3 and (typed in normalised(n) or normalised(n) in typed) for n in names)]
    return inside[0] if len(set(inside)) == 1 else None


def end_journey() -> List[EventType]:
    return [SlotSet(DRAFT_SLOT, None), SlotSet("pending_journey", None), SlotSet("awaiting_answer", False),
            SlotSet("awaiting_confirmation", False)]


class StepJourney(AccountAction, ABC):
    """An account journey that gathers choices (amount, pack, payment...) over several turns.

    Each turn, `serve` merges what the customer just said into the draft and calls `advance`,
    which either asks for the next missing choice (`ask`) or acts / proposes (`operations.propose`).
    """

    collects: Tuple[str, ...] = ()  # entities this journey reads from the customer's messages
    answers_no = False  # True: a "no" while it waits for an answer goes to it (else "no" stops the journey)

    def before_identification(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(DRAFT_SLOT, self.draft(tracker))]

    def draft(self, tracker: Tracker) -> Dict[str, Any]:
        previous = tracker.get_slot(DRAFT_SLOT) or {}
        fresh = {"journey": self.intent, "values": {}, "at": clock.timestamp()}
        if previous.get("journey") != self.intent or clock.timestamp() - previous.get("at", 0) > DRAFT_MINUTES * 60:
            previous = {}
        if tracker.latest_action_name == "identify_form":
            # Resuming after identification: the last message was a code, not an answer.
            return previous or fresh
        message = tracker.latest_message or {}
        found = {e["entity"]: e.get("value") for e in message.get("entities", [])
                 if e.get("entity") in self.collects and e.get("value") not in (None, "")}
        if (message.get("intent") or {}).get("name") == self.intent and not found:
            return {**fresh, "values": self.read(tracker, {}, None)}
        values = dict(previous.get("values", {}))
        asking = previous.get("asking")
        if asking and asking not in found:
            picked = match_option(previous.get("options") or [], message.get("text") or "")
            if picked is not None:
                found[asking] = picked
        values.update(found)
        values.update(self.read(tracker, values, asking if asking not in found else None))
        return {"journey": self.intent, "values": values, "at": clock.timestamp()}

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        """Values this journey reads from the message text itself (an amount typed alone...)."""
        return {}

    async def serve(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line) -> List[EventType]:
        return await self.advance(dispatcher, tracker, line, self.draft(tracker))

    @abstractmethod
    async def advance(self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line,
                      draft: Dict[str, Any]) -> List[EventType]:
        """Asks for the next missing choice, or acts on the complete draft."""

    def button(self, entity: str, value: Any, title: str) -> Dict[str, str]:
        """A button that answers this journey's question whatever NLU would make of its title."""
        return {"title": title, "payload": f"/{self.intent}{json.dumps({entity: value}, ensure_ascii=False)}"}

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, draft: Dict[str, Any], entity: str,
            message_key: str, options: Sequence[Tuple[str, str]] = (), extra_buttons: Sequence[Dict[str, str]] = (),
            **values: Any) -> List[EventType]:
        """Asks for `entity`, offering `options` (value, title) as buttons; a typed title or number also answers."""
        message = render(message_key, language_of(tracker), **values)
        buttons = [self.button(entity, value, title) for value, title in options] + list(extra_buttons)
        if buttons:
            message["buttons"] = buttons + message.get("buttons", [])
        dispatcher.utter_message(**message)
        draft = {**draft, "asking": entity, "options": [[value, title] for value, title in options]}
        return [SlotSet(DRAFT_SLOT, draft), SlotSet("pending_journey", self.intent), SlotSet("awaiting_answer", True),
                SlotSet("awaiting_confirmation", False)]


class ActionContinueJourney(Action):
    """An answer (`inform`) to the question a journey asked: hands it back to that journey."""

    def name(self) -> Text:
        return "action_continue_journey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = serve_pending(tracker.get_slot("pending_journey"))
        if journey is None or not tracker.get_slot("awaiting_answer"):
            say(dispatcher, tracker, "nothing_asked")
            return end_journey()
        return await journey().run(dispatcher, tracker, domain)


