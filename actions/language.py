"""The conversation's language: remembered across sessions, switched on request, kept valid."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.i18n import say
from actions.identity import sessions
from common import config
from common.language import normalise_language_name
from common.state import remember_language, remembered_language

SLOT = "language"


def memory_subjects(tracker: Tracker) -> List[str]:
    """Whom a language memory belongs to, most specific first: the verified line or contract
    (it follows the customer to every channel), then this channel user."""
    identity = sessions.current(tracker.sender_id, touch=False)
    return ([identity.subject] if identity else []) + [f"sender:{tracker.sender_id}"]


def previous_language(tracker: Tracker) -> Optional[Text]:
    """The language before the latest user message set a new one."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == SLOT:
            return event.get("value")
    return None


def is_explicit_request(parse_data: Dict[Text, Any]) -> bool:
    """Did this message ask for a language by name ("en français svp", a language button)?"""
    if (parse_data.get("intent") or {}).get("name") not in ("change_language", "inform"):
        return False
    return any(
        e.get("entity") == "language" and normalise_language_name(e.get("value"))
        for e in parse_data.get("entities") or []
    )


class ActionSessionStart(Action):
    """Starts a session in the language the customer chose last time."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        if domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
            events += [
                SlotSet(name, value)
                for name, value in tracker.slots.items()
                if value is not None and name not in (SLOT, "requested_slot", "session_started_metadata")
            ]
        events.append(SlotSet(SLOT, self.starting_language(tracker)))
        events.append(ActionExecuted("action_listen"))
        return events

    @staticmethod
    def starting_language(tracker: Tracker) -> Text:
        remembered = remembered_language(*memory_subjects(tracker))
        if remembered in config.SUPPORTED_LANGUAGES:
            return remembered
        # The web chat passes the browser's locale ("es-GT") in the first message's metadata.
        locale = str((tracker.get_slot("session_started_metadata") or {}).get("locale") or "")[:2].lower()
        if locale in config.SUPPORTED_LANGUAGES:
            return locale
        carried = previous_language(tracker) or next(
            (e.get("value") for e in reversed(tracker.events) if e.get("event") == "slot" and e.get("name") == SLOT),
            None,
        )
        return carried if carried in config.SUPPORTED_LANGUAGES else config.DEFAULT_LANGUAGE


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message that set a slot outside a form."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        previous = previous_language(tracker) or config.DEFAULT_LANGUAGE
        if value not in config.SUPPORTED_LANGUAGES:
            # Anyone can type /inform{"language": "de"}: keep the language we had.
            return {SLOT: previous}
        if not is_explicit_request(tracker.latest_message) and any(
            is_explicit_request(e.get("parse_data") or {}) for e in tracker.events[:-1] if e.get("event") == "user"
        ):
            # The customer chose a language in this conversation: a message written in another
            # one ("thanks" after "hablemos en español") does not override their choice.
            return {SLOT: previous}
        for subject in memory_subjects(tracker):
            remember_language(subject, value)
        return {SLOT: value}


class ActionChangeLanguage(Action):
    """Confirms a switch (the slot is already set by then) or asks which language."""

    def name(self) -> Text:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        # A language we do not speak, or none named: offer the three we do.
        say(dispatcher, tracker, "language_changed" if is_explicit_request(tracker.latest_message) else "ask_language")
        return []
