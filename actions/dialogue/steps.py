"""Journeys that take several turns (StepJourney): the choices gathered so far in the `journey_draft` slot,
the questions asked on the way, the other journey slots, and the end of a journey (end_journey).

An answer typed to a journey's question (`inform`) goes back to it through ActionContinueJourney.
"""

import json
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dialogue import state
from actions.dialogue.account import AccountAction, serve_pending
from actions.dialogue.choices import match_option
from actions.dialogue.state import end_journey
from actions.i18n import language_of, say
from clients.bss import Line
from common import clock
from common.i18n import render

# The draft (actions/dialogue/state.py) only says what to propose next: the operator checks every value
# again, and a money move only happens on the operation stored server-side (actions/dialogue/operations.py).
DRAFT_MINUTES = 30


class StepJourney(AccountAction, ABC):
    """An account journey that gathers choices (amount, pack, payment...) over several turns.

    Each turn, `serve` merges what the customer just said into the draft and calls `advance`,
    which either asks for the next missing choice (`ask`) or acts / proposes (`operations.propose`).
    """

    collects: Tuple[str, ...] = ()  # entities this journey reads from the customer's messages

    def before_identification(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(state.DRAFT_SLOT, self.draft(tracker))]

    def draft(self, tracker: Tracker) -> Dict[str, Any]:
        previous = state.draft_of(tracker)
        fresh = {"journey": self.intent, "values": {}, "at": clock.timestamp()}
        if previous.get("journey") != self.intent or clock.timestamp() - previous.get("at", 0) > DRAFT_MINUTES * 60:
            previous = {}
        if tracker.latest_action_name == "identify_form":
            # Resuming after identification: the last message was a code, not an answer.
            return previous or fresh
        message = tracker.latest_message or {}
        found = {
            e["entity"]: e.get("value")
            for e in message.get("entities", [])
            if e.get("entity") in self.collects and e.get("value") not in (None, "")
        }
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

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        return await self.advance(dispatcher, tracker, line, self.draft(tracker))

    @abstractmethod
    async def advance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, draft: Dict[str, Any]
    ) -> List[EventType]:
        """Asks for the next missing choice, or acts on the complete draft."""

    def button(self, entity: str, value: Any, title: str) -> Dict[str, str]:
        """A button that answers this journey's question whatever NLU would make of its title."""
        return {"title": title, "payload": f"/{self.intent}{json.dumps({entity: value}, ensure_ascii=False)}"}

    def ask(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        draft: Dict[str, Any],
        entity: str,
        message_key: str,
        options: Sequence[Tuple[str, str]] = (),
        extra_buttons: Sequence[Dict[str, str]] = (),
        **values: Any,
    ) -> List[EventType]:
        """Asks for `entity`, offering `options` (value, title) as buttons; a typed title or number also answers."""
        message = render(message_key, language_of(tracker), **values)
        buttons = [self.button(entity, value, title) for value, title in options] + list(extra_buttons)
        if buttons:
            message["buttons"] = buttons + message.get("buttons", [])
        dispatcher.utter_message(**message)
        draft = {**draft, "asking": entity, "options": [[value, title] for value, title in options]}
        return state.asking(self.intent, draft)


class ActionContinueJourney(Action):
    """An answer (`inform`) to the question a journey asked: hands it back to that journey."""

    def name(self) -> Text:
        return "action_continue_journey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = serve_pending(state.waiting_journey(tracker))
        if journey is None:
            say(dispatcher, tracker, "nothing_asked")
            return end_journey()
        return await journey().run(dispatcher, tracker, domain)
