"""A conversation for the customer-care actions (Help Center, tickets, handoff) against the real sandbox.

Unlike tests/actions/chat.py it keeps the whole conversation (user and bot messages with their times,
slots), because tickets carry its transcript, and it plays ticket_form the way Rasa would: the form's
validation action first, then "what is it about?" or action_create_ticket.
"""

import json
import re
import time
from datetime import datetime
from typing import Any, Dict, List, Optional

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import backends, business_hours
from actions.dialogue.account import JOURNEYS
from actions.dialogue.operations import ActionNo, ActionYes
from actions.dialogue.steps import ActionContinueJourney
from actions.journeys.ask_faq import ActionAskFaq
from actions.journeys.create_ticket import ActionAskTicketIssue, ActionCreateTicket, ValidateTicketForm
from actions.journeys.human_handoff import ActionHumanHandoff
from common import config
from common.state.care_kpi import ConversationOutcome
from common.state.care_kpi import session as kpi_session

BY_INTENT = {
    "affirm": ActionYes,
    "deny": ActionNo,
    "inform": ActionContinueJourney,
    "ask_faq": ActionAskFaq,
    "nlu_fallback": ActionAskFaq,
    "human_handoff": ActionHumanHandoff,
}
BY_NAME = {"action_human_handoff": ActionHumanHandoff, "action_create_ticket": ActionCreateTicket}


@pytest.fixture
def zendesk(operator, monkeypatch):
    """The action server's Zendesk client pointed at a freshly reset sandbox."""
    monkeypatch.setattr(config, "ZENDESK_URL", operator)
    backends.reset()
    return operator


@pytest.fixture
def care_domain(domain):
    """The domain plus what ticket_form needs (until domain.yml has it)."""
    return {
        **domain,
        "forms": {**domain.get("forms", {}), "ticket_form": {"required_slots": ["ticket_issue"]}},
        "slots": {**domain.get("slots", {}), "ticket_issue": {"type": "text", "mappings": [{"type": "custom"}]}},
    }


def at(moment: str, clock) -> None:
    """Moves the project's clock (the `clock` fixture) to an ISO moment with its offset, e.g. 2025-06-11T10:00:00+01:00."""
    clock.move_to(datetime.fromisoformat(moment))


def tickets(sandbox: str) -> List[dict]:
    return requests.get(f"{sandbox}/_sandbox/zendesk/tickets", timeout=5).json()


def fault(sandbox: str, status: int, count: int, retry_after: Optional[int] = None) -> None:
    body = {"service": "zendesk", "status": status, "count": count}
    if retry_after is not None:
        body["retry_after"] = retry_after
    requests.post(f"{sandbox}/_sandbox/faults", json=body, timeout=5).raise_for_status()


def clear_faults(sandbox: str) -> None:
    requests.delete(f"{sandbox}/_sandbox/faults", timeout=5)


def outcomes_recorded(conversation_id: str = "test-user") -> List[tuple]:
    with kpi_session() as s:
        rows = s.query(ConversationOutcome).filter_by(conversation_id=conversation_id).order_by(ConversationOutcome.id)
        return [(r.outcome, r.topic) for r in rows]


class CareChat:
    def __init__(
        self, domain: Dict[str, Any], language: str = "en", channel: str = "socketio", sender_id: str = "test-user"
    ):
        self.domain, self.channel, self.sender_id = domain, channel, sender_id
        self.slots: Dict[str, Any] = {"language": language}
        self.events: List[Dict[str, Any]] = []
        self.replies: List[dict] = []
        self.returned: List[dict] = []

    def tracker(self, message: Dict[str, Any]) -> Tracker:
        return Tracker(
            sender_id=self.sender_id,
            slots=dict(self.slots),
            latest_message=message,
            events=list(self.events),
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name=None,
        )

    async def run(self, action, message: Dict[str, Any]) -> List[dict]:
        dispatcher = CollectingDispatcher()
        events = await action().run(dispatcher, self.tracker(message), self.domain)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            self.events.append(event)
        for reply in dispatcher.messages:
            self.events.append(
                {
                    "event": "bot",
                    "text": reply.get("text"),
                    "timestamp": time.time(),
                    "data": {"buttons": reply.get("buttons")},
                }
            )
        self.replies += dispatcher.messages
        self.returned += events
        followup = next((e["name"] for e in events if e.get("event") == "followup"), None)
        if followup == "ticket_form":
            await self.ticket_form(message)
        elif followup:
            await self.run(BY_NAME[followup], message)
        return events

    async def ticket_form(self, message: Dict[str, Any]) -> None:
        """One turn of ticket_form: fill `ticket_issue` if this message can, else ask for it."""
        await self.run(ValidateTicketForm, message)
        if self.slots.get("ticket_issue"):
            self.slots["requested_slot"] = None
            await self.run(ActionCreateTicket, message)
        else:
            self.slots["requested_slot"] = "ticket_issue"
            await self.run(ActionAskTicketIssue, message)

    async def say(self, text: str, intent: str, entities: Optional[Dict[str, Any]] = None, action=None) -> str:
        """A customer message, then what Rasa's rules would run for it; answers the bot's texts."""
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        }
        self.events.append(
            {
                "event": "user",
                "text": text,
                "parse_data": message,
                "input_channel": self.channel,
                "timestamp": time.time(),
            }
        )
        self.replies, self.returned = [], []
        if action is not None:
            await self.run(action, message)
        elif self.slots.get("requested_slot") == "ticket_issue" or intent == "create_ticket":
            await self.ticket_form(message)
        else:
            await self.run(BY_INTENT.get(intent) or JOURNEYS[intent], message)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.replies).replace("\u202f", " ").replace("\xa0", " ")

    @property
    def buttons(self) -> List[dict]:
        return [b for m in self.replies for b in m.get("buttons") or []]

    @property
    def custom(self) -> List[dict]:
        return [m["custom"] for m in self.replies if m.get("custom")]

    async def tap(self, payload: str) -> str:
        match = re.fullmatch(r"/(\w+)(\{.*\})?", payload)
        assert any(b["payload"] == payload for b in self.buttons), f"no button {payload} in {self.buttons}"
        return await self.say(payload, match.group(1), json.loads(match.group(2)) if match.group(2) else None)
