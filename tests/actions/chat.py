"""A conversation with one action server journey, turn by turn, keeping the slots the actions set; the sandbox
customers the money-move tests play (chat_as), and their prepaid buckets read from the sandbox (buckets).

Rasa's dialogue (rules) is not involved here: each turn names the action Rasa would run, so these
tests check what the actions say and do. tests/stories check that Rasa picks those actions.
"""

from typing import Any, Dict, List, Optional

import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue.account import JOURNEYS
from actions.dialogue.operations import ActionNo, ActionYes
from actions.dialogue.steps import ActionContinueJourney
from actions.identity import sessions

# Sandbox customers the money-move journeys are played with.
AWA, CARLOS, MARIA, JOHN, SUSPENDED = "+2290197000001", "+50255500002", "+50235500003", "+2290196000005", "+50255500007"
HOGAR = "HG-100004"


class Chat:
    def __init__(self, domain: Dict[str, Any], language: str = "en", sender_id: str = "test-user"):
        self.domain = domain
        self.sender_id = sender_id
        self.slots: Dict[str, Any] = {"language": language, "identified": True}
        self.replies: List[dict] = []
        self.latest_action: Optional[str] = None

    async def say(self, text: str, intent: str, entities: Optional[Dict[str, Any]] = None, action=None) -> str:
        """Sends a message and runs the action Rasa's rules would pick; answers the bot's texts."""
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        }
        if action is None:
            action = {"affirm": ActionYes, "deny": ActionNo, "inform": ActionContinueJourney}.get(intent) or JOURNEYS[
                intent
            ]
        tracker = Tracker(
            sender_id=self.sender_id,
            slots=dict(self.slots),
            latest_message=message,
            events=[{"event": "user", "text": text, "parse_data": message}],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name=self.latest_action,
        )
        dispatcher = CollectingDispatcher()
        events = await action().run(dispatcher, tracker, self.domain)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.replies = dispatcher.messages
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.replies).replace("\u202f", " ").replace("\xa0", " ")

    @property
    def buttons(self) -> List[dict]:
        return [
            {**b, "title": b["title"].replace("\u202f", " ").replace("\xa0", " ")}
            for m in self.replies
            for b in m.get("buttons") or []
        ]

    def button(self, title_part: str) -> dict:
        return next(b for b in self.buttons if title_part in b["title"])

    async def tap(self, title_part: str) -> str:
        """Taps a button: its payload /intent{"entity": "value"} parsed as Rasa does."""
        import json
        import re

        payload = self.button(title_part)["payload"]
        match = re.fullmatch(r"/(\w+)(\{.*\})?", payload)
        return await self.say(payload, match.group(1), json.loads(match.group(2)) if match.group(2) else None)


def disclosed(dispatcher: CollectingDispatcher) -> str:
    """What an action said, one text after another."""
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def chat_as(domain, subject: str, language: str = "en") -> Chat:
    sessions.verify("test-user", subject, "otp")
    return Chat(domain, language)


def buckets(sandbox, msisdn, kind):
    found = requests.get(
        f"{sandbox}/tmf-api/prepayBalanceManagement/v4/bucket",
        params={"logicalResource.id": msisdn},
        headers=token(sandbox),
        timeout=5,
    ).json()
    return sum(b["remainingValue"]["amount"] for b in found if b["bucketType"] == kind and b["status"] == "active")


def token(sandbox):
    reply = requests.post(
        f"{sandbox}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("assistant", "sandbox-secret"),
        timeout=5,
    ).json()
    return {"Authorization": f"Bearer {reply['access_token']}"}
