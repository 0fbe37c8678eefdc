"""Conversation basics that need code."""
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.i18n import say


class ActionHumanContact(Action):
    """Tells the customer how to reach an agent (the Zendesk handoff replaces this)."""

    def name(self) -> Text:
        return "action_human_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, "human_contact", care_phone=config.CARE_PHONE)
        return []
