"""`create_ticket` → ticket_form (asks "what is it about?" unless the message or the help-centre question just
before already says it) → `action_create_ticket`, which opens the ticket through actions/zendesk_tickets.py
(never lost, never made twice) and tells the customer its number or reference.
"""

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import business_hours, outcomes
from actions.customer_request import (
    ISSUE_SLOT,
    MAX_ISSUE,
    described_issue,
    intent_of,
    is_complaint,
    is_payload,
    topic_of,
    user_turns,
)
from actions.dialogue.state import end_journey
from actions.i18n import say
from actions.zendesk_tickets import after_hours_note, customer_of, open_ticket, tell_submitted
from common import config

logger = logging.getLogger(__name__)


class ActionAskTicketIssue(Action):
    def name(self) -> Text:
        return "action_ask_ticket_issue"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, "ask_ticket_issue")
        return []


class ValidateTicketForm(FormValidationAction):
    """ticket_form's one slot, `ticket_issue`: whatever the customer types, whatever NLU made of it."""

    def name(self) -> Text:
        return "validate_ticket_form"

    async def extract_ticket_issue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != ISSUE_SLOT:
            issue = described_issue(tracker)  # the message that opened the form may say it already
            return {ISSUE_SLOT: issue} if issue and not tracker.get_slot(ISSUE_SLOT) else {}
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if is_payload(text) or not re.search(r"[^\W\d_]", text):  # a button, or no word at all
            return {}
        if intent in ("affirm", "deny") and len(text.split()) <= 2:  # "ok", "non": not a description
            return {}
        if intent in ("human_handoff", "goodbye"):  # a person after all, or leaving: the form lets their rule answer
            return {}
        return {ISSUE_SLOT: text[:MAX_ISSUE]}

    async def validate_ticket_issue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {ISSUE_SLOT: value}  # any words will do: the agent reads them


class ActionCreateTicket(Action):
    """Opens the ticket once ticket_form knows what it is about; an explicit complaint on Zendesk
    messaging in business hours goes to an agent right away instead (the handoff's own path)."""

    def name(self) -> Text:
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        issue = tracker.get_slot(ISSUE_SLOT) or described_issue(tracker)
        if not issue:
            return [FollowupAction("ticket_form")]
        customer = customer_of(tracker)
        opening = next(
            (e.get("text") or "" for e in reversed(user_turns(tracker)[-4:]) if intent_of(e) == "create_ticket"), ""
        )
        complaint = is_complaint(issue) or is_complaint(opening)
        if (
            complaint
            and customer.channel == config.ZENDESK_MESSAGING_CHANNEL
            and business_hours.is_open(customer.market)
        ):
            from actions.journeys.human_handoff import ActionHumanHandoff  # late: human_handoff builds on this module

            return await ActionHumanHandoff().run(dispatcher, tracker, domain)
        topic = "complaint" if complaint and topic_of(tracker) == "general" else topic_of(tracker)
        submitted = open_ticket(
            tracker,
            customer,
            "ticket",
            topic,
            issue,
            ticket_type="incident" if complaint else "question",
            extra_tags=["complaint"] if complaint else (),
        )
        tell_submitted(dispatcher, tracker, submitted, "ticket_created", "ticket_queued")
        note = after_hours_note(tracker, customer.market)
        if note and submitted.new:
            dispatcher.utter_message(text=note)
        if submitted.new:
            outcomes.record(tracker, "ticket", topic=topic, line=customer.line)
        return [SlotSet(ISSUE_SLOT, None)] + end_journey()
