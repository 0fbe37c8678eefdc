"""Campaign messages said inside a customer's chat conversation, and "stop" (action_campaign_message,
action_opt_out).

campaigns/sender.py triggers EXTERNAL_campaign_message in the line's latest WhatsApp or Messenger conversation;
the connector then picks the template or tag the platform needs. Anyone can type
`/EXTERNAL_campaign_message{...}`, so nothing in it is believed: the message must be one the sender is sending
right now, to a line this very conversation is linked to. The campaign is remembered in the `campaign_id` slot,
so a reply ("stop", "pay now") knows what it answers.
"""

import logging
from typing import List, Optional, Set, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dialogue import state
from actions.dialogue.operations import ActionNo
from actions.i18n import language_of, say
from actions.identity import sessions
from actions.identity.verified import channel_identity
from actions.journeys.give_feedback import ask_score, open_survey
from common.i18n import render
from common.state import campaigns, consent, db

logger = logging.getLogger(__name__)
CAMPAIGN_SLOT = "campaign_id"
# what the customer may do next, per kind of campaign: a button under the message
NEXT_STEP = {
    "payment_reminder": ("campaign_pay_now", "/pay_invoice"),
    "missed_call": ("campaign_call_me", '/human_handoff{"option": "callback"}'),  # a Zendesk callback task
}


def entity(tracker: Tracker, name: str) -> Optional[str]:
    found = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == name]
    return str(found[0]) if found and found[0] is not None else None


def lines_of(tracker: Tracker) -> Set[str]:
    """The numbers this conversation has proved it holds (now, or on an earlier visit)."""
    identity = sessions.current(tracker.sender_id, touch=False) or channel_identity(tracker)
    subjects = {link.subject for link in db.linked_conversations_of(tracker.sender_id)}
    if identity is not None:
        subjects.add(identity.subject)
    return {subject.split(":", 1)[1] for subject in subjects if subject.startswith("line:")}


class ActionCampaignMessage(Action):
    def name(self) -> Text:
        return "action_campaign_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        campaign = campaigns.get(entity(tracker, "campaign_id") or "")
        row = campaigns.recipient(entity(tracker, "campaign_recipient") or "")
        if (
            campaign is None
            or row is None
            or row.campaign_id != campaign.id
            or row.status != campaigns.SENDING
            or row.msisdn not in lines_of(tracker)
        ):
            logger.warning("%s: not a campaign message being sent to %s", self.name(), tracker.sender_id)
            return []
        language = language_of(tracker)
        text = campaigns.text_for(campaign, row, language)
        # the connector records the platform's id for this very message (its delivery reports name it)
        which = {"campaign_id": campaign.id, "campaign_recipient": str(row.id)}
        if campaign.kind == "post_call_survey":
            # the survey itself: its 0-10 buttons, and the score lands where every NPS answer does (make kpi)
            open_survey(f"line:{row.msisdn}", tracker.sender_id, "post_call")
            return [SlotSet(CAMPAIGN_SLOT, campaign.id), *ask_score(dispatcher, tracker, text=text, **which)]
        buttons = []
        if campaign.kind in NEXT_STEP:
            key, payload = NEXT_STEP[campaign.kind]
            buttons.append({"title": render(key, language)["text"], "payload": payload})
        buttons.append({"title": render("campaign_stop_button", language)["text"], "payload": "/opt_out"})
        dispatcher.utter_message(text=text, buttons=buttons, **which)
        return [SlotSet(CAMPAIGN_SLOT, campaign.id)]


class ActionOptOut(Action):
    """ "Stop": no more campaigns of the kind the customer answers (every marketing one when none), on every
    line this conversation holds. Service messages about their own operations still come."""

    def name(self) -> Text:
        return "action_opt_out"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        campaign = campaigns.get(tracker.get_slot(CAMPAIGN_SLOT) or "")
        if campaign is None and state.is_waiting(tracker):
            # "stop" while a journey waits for an answer (shall I move this money?) means no
            return await ActionNo().run(dispatcher, tracker, domain)
        lines = lines_of(tracker)
        if not lines:
            say(dispatcher, tracker, "opt_out_which_line")
            return []
        kind = campaign.kind if campaign is not None else consent.ALL_MARKETING
        channel = tracker.get_latest_input_channel() or "chat"
        for msisdn in sorted(lines):
            consent.opt_out(msisdn, kind, channel)
        key = "opt_out_done_all" if kind == consent.ALL_MARKETING else f"opt_out_done_{kind}"
        say(dispatcher, tracker, key)
        return [SlotSet(CAMPAIGN_SLOT, None)]
