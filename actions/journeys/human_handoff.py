"""Human handoff: to an agent in business hours, else the hours, a ticket or a callback, and what the
customer can do right now.

In hours, on Zendesk messaging the conversation passes to the Agent Workspace: the action sends
`{"handoff": handoff_metadata(...)}` as a custom message, which connectors/zendesk_messaging.py turns
into passControl and after which that connector keeps the bot silent until control comes back. On other
channels an agent gets a ticket with the transcript, routed to the segment's and language's group, and
answers on the same channel. Out of hours: the opening hours in the market's time, a ticket, a callback
(only to a verified number), self-service and the other digital channels.
"""

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import business_hours, outcomes
from actions.campaign_message import CAMPAIGN_SLOT
from actions.customer_history import channels_summary
from actions.customer_request import ISSUE_SLOT, intent_of, is_complaint, is_payload, topic_of, user_turns
from actions.dialogue.state import end_journey
from actions.i18n import language_of, say
from actions.journeys.give_feedback import maybe_ask_nps
from actions.zendesk_tickets import Customer, customer_of, group_for, open_ticket, tell_submitted
from clients.bss import Line
from common import config
from common.i18n import render
from common.phone import display
from common.state import campaigns
from privacy.redaction import redact_text

logger = logging.getLogger(__name__)
SUMMARY_CHARACTERS = 600


def handoff_topic(tracker: Tracker) -> str:
    """ "complaint" when the customer just complained (action_create_ticket hands those over), else the journey."""
    issue = tracker.get_slot(ISSUE_SLOT) or ""
    if is_complaint(issue) or any(
        intent_of(e) == "create_ticket" and is_complaint(e.get("text") or "") for e in user_turns(tracker)[-4:]
    ):
        return "complaint"
    return topic_of(tracker)


def summary(tracker: Tracker, topic: str, issue: Optional[str] = None) -> str:
    """What the agent reads first: the topic and the customer's last words (codes and cards removed)."""
    said = [
        redact_text(e.get("text") or "", answering_code=True).strip()
        for e in user_turns(tracker)
        if not is_payload(e.get("text")) and (e.get("text") or "").strip()
    ]
    words = ([issue] if issue else []) + said[-3:]
    text = (
        f"Topic: {topic}. Customer said: " + " | ".join(f'"{w}"' for w in dict.fromkeys(words))
        if words
        else f"Topic: {topic}."
    )
    return text if len(text) <= SUMMARY_CHARACTERS else text[: SUMMARY_CHARACTERS - 1] + "…"


def _metadata(tracker: Tracker, customer: Customer, topic: str, issue: Optional[str]) -> Dict[str, Any]:
    if customer.phone:
        identity = {"kind": "line", "line": customer.phone}
    elif customer.subject:
        identity = {"kind": "contract", "contract": customer.subject.split(":", 1)[1]}
    else:
        identity = {"kind": "not_identified", "channel_user": customer.sender_id}
    if customer.name:
        identity["name"] = customer.name
    found: Dict[str, Any] = {
        "segment": customer.segment,
        "language": customer.language,
        "market": customer.market,
        "identity": identity,
        "topic": topic,
        "summary": summary(tracker, topic, issue),
    }
    elsewhere = channels_summary(customer.subject, tracker.sender_id)
    if elsewhere:  # the agent finds the customer's other conversations from these
        found["other_channels"] = elsewhere
    group = group_for(customer.segment, customer.language)
    if group is not None:  # Agent Workspace fields the ticket it opens from these
        found["dataCapture.systemField.group_id"] = str(group)
    if customer.name:
        found["dataCapture.systemField.requester.name"] = customer.name
    return found


def handoff_metadata(tracker: Tracker, line: Optional[Line] = None, topic: Optional[str] = None) -> Dict[str, Any]:
    """What the agent gets with the conversation: segment, language, identity, topic, summary (flat enough
    for SunCo's passControl metadata once connectors/sunshine_messages.py flattens `identity`)."""
    customer = customer_of(tracker)
    if line is not None and customer.line is None:
        customer.line = line
    return _metadata(tracker, customer, topic or handoff_topic(tracker), tracker.get_slot(ISSUE_SLOT))


def opening_values(customer: Customer) -> Dict[str, str]:
    language = customer.language
    return {
        "hours": business_hours.hours_text(customer.market, language),
        "country": business_hours.country_name(customer.market, language),
        "next_opening": business_hours.opening_text(customer.market, language),
    }


def _button(key: str, payload: str, language: str) -> Dict[str, str]:
    return {"title": render(key, language)["text"], "payload": payload}


class ActionHumanHandoff(Action):
    """`human_handoff`, a second message in a row not understood, or a complaint on Zendesk messaging."""

    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = customer_of(tracker)
        done = [SlotSet(ISSUE_SLOT, None)] + end_journey()
        option = next(
            (
                e.get("value")
                for e in (tracker.latest_message or {}).get("entities") or []
                if e.get("entity") == "option"
            ),
            None,
        )
        if option == "callback":
            self.callback(dispatcher, tracker, customer)
            return done
        topic, issue = handoff_topic(tracker), tracker.get_slot(ISSUE_SLOT)
        if not business_hours.is_open(customer.market):
            self.closed(dispatcher, tracker, customer)
            return done
        if customer.channel == config.ZENDESK_MESSAGING_CHANNEL:
            say(dispatcher, tracker, "handoff_agent_joining")
            dispatcher.utter_message(json_message={"handoff": _metadata(tracker, customer, topic, issue)})
        else:
            submitted = open_ticket(
                tracker,
                customer,
                "handoff",
                topic,
                issue,
                ticket_type="incident" if topic == "complaint" else "question",
                extra_tags=["complaint"] if topic == "complaint" else (),
            )
            tell_submitted(dispatcher, tracker, submitted, "handoff_ticket_created", "handoff_ticket_queued")
            if not submitted.new:  # the same request again: already counted
                return done
        outcomes.record(tracker, "handoff", topic=topic, line=customer.line)
        return done

    @staticmethod
    def closed(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> None:
        language = language_of(tracker)
        offer = "handoff_offer_ticket_or_callback" if customer.phone else "handoff_offer_ticket"
        text = (
            render("handoff_closed", language, **opening_values(customer))["text"]
            + "\n"
            + render(offer, language)["text"]
        )
        buttons = [_button("button_create_ticket", "/create_ticket", language)]
        if customer.phone:
            buttons.append(_button("button_callback", '/human_handoff{"option": "callback"}', language))
        dispatcher.utter_message(text=text, buttons=buttons)
        say(dispatcher, tracker, "handoff_meanwhile")

    @staticmethod
    def callback(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> None:
        """A call back to the verified number: a Zendesk task ticket tagged `callback` (and with the campaign it
        answers, when the customer taps "Call me back" under a missed-call message)."""
        if not customer.phone:  # never call a number nobody proved
            say(dispatcher, tracker, "callback_needs_line")
            return
        phone = display(customer.phone)
        campaign = campaigns.get(tracker.get_slot(CAMPAIGN_SLOT) or "")
        submitted = open_ticket(
            tracker,
            customer,
            "callback",
            handoff_topic(tracker),
            ticket_type="task",
            extra_tags=["callback"] + ([f"campaign_{campaign.kind}"] if campaign else []),
            note_lines=[f"Call back: {phone}"]
            + ([f"Answering campaign {campaign.id}: {campaign.name}"] if campaign else []),
            subject=f"Call back {phone}",
        )
        language = language_of(tracker)
        if business_hours.is_open(customer.market):
            when = render("callback_when_open", language)["text"]
        else:
            when = render(
                "callback_when_closed", language, next_opening=business_hours.opening_text(customer.market, language)
            )["text"]
        reference = f"{submitted.number} · {submitted.reference}" if submitted.number else submitted.reference
        say(dispatcher, tracker, "callback_booked", phone=phone, when=when, reference=reference)
        if submitted.new:
            outcomes.record(tracker, "ticket", topic="callback", line=customer.line)


class ActionHandoffEnded(Action):
    """The agent handed the conversation back (Zendesk messaging): say the assistant is back, and ask the
    satisfaction survey if this customer was not asked lately."""

    def name(self) -> Text:
        return "action_handoff_ended"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, "sunco_bot_back")
        return end_journey() + maybe_ask_nps(dispatcher, tracker)
