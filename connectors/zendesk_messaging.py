"""Zendesk messaging (Sunshine Conversations v2) as a Rasa channel: the bot answers first in Zendesk's Web
Widget, mobile SDKs and the social channels connected to the app, and hands over to the Agent Workspace.

credentials.yml:   connectors.zendesk_messaging.ZendeskMessagingInput:   (settings: SUNCO_* in common/config.py)
routes:            POST /webhooks/zendesk/webhook   (the app's webhook: conversation:message, conversation:postback,
                                                     switchboard:* triggers)
                   GET  /webhooks/zendesk/          (health)

In:
- Every delivery carries the webhook's secret in `X-API-Key` (SunCo has no body signature): compared in
  constant time; missing or wrong → 401 (SunCo does not retry a 401).
- `conversation:message` written by the user (never `business`: our own replies and agents' come back as
  events too), and `conversation:postback`, become one Rasa message each: text; a reply button's or
  postback's `/intent{...}` payload; a shared location → `/find_store{"location": "<lat>,<lon>"}`; a typed
  number (or title) picking from the numbered list the bot sent last → that option's payload.
- Each message is handed to Rasa once: its id is written first (common/state/claims.py), so a
  redelivery answers 200 (done) or 409 (still being handled: SunCo retries later); if Rasa fails, the claim is
  released and the answer is 500, so SunCo delivers again.
- Rasa's sender id is `zendesk:<conversation id>`: one Rasa conversation per SunCo conversation, the reply
  needs the conversation id, and the prefix keeps it apart from other channels' ids. The SunCo user (id,
  externalId, zendeskId, profile) goes in the message metadata under `zendesk`, its locale under `locale`.
- Who answers is kept per conversation (common.state.channel_state): after a handoff the agent owns it and
  user messages are not passed to Rasa (the bot stays silent, even if SunCo still delivers to it). Control
  comes back with `switchboard:passControl`/`acceptControl` to the bot's integration (e.g. the ticket was
  closed: reason `ticketClosed`) or `switchboard:releaseControl`; the bot then says it is back. A message's
  `conversation.activeSwitchboardIntegration` also updates the owner, unless a later change is known.

Out (`ZendeskMessagingOutput`), `POST {SUNCO_BASE_URL}/v2/apps/{app}/conversations/{conversation}/messages`
with HTTP Basic (API key id / secret) and `author.type: business`:
- text split at 4096 characters (SunCo's limit); buttons → `reply` actions (title cut to 40 characters, what
  the Web Widget and SDKs show; at most MAX_REPLIES); more buttons than that → a numbered list in the text.
- `{"handoff": {segment, language, identity, topic, summary}}` (custom JSON) → `passControl` to
  SUNCO_AGENT_INTEGRATION with that metadata flattened to strings (≤ 4 KB); if SunCo refuses, the customer is
  told an agent will get back to them.
- Nothing is sent while an agent owns the conversation (e.g. a payment confirmation arriving then).

The pieces: connectors/sunshine_messages.py reads and writes SunCo messages and metadata;
connectors/sunshine_conversations.py is the API client.
"""

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common import clock, config
from common.i18n import render
from common.state import channel_state, claims, remembered_language
from common.text import split_text
from connectors.external_events import tell_conversation, webhook_answer
from connectors.sunshine_conversations import SunshineConversations
from connectors.sunshine_messages import (
    button_action,
    controller,
    conversation_of,
    event_time,
    flat_metadata,
    language_hint,
    message_text,
    picked_choice,
    sender_id_for,
    user_metadata,
)

logger = logging.getLogger(__name__)
# injected when an agent hands the conversation back (action_handoff_ended)
HANDOFF_ENDED = "EXTERNAL_handoff_ended"

API_KEY_HEADER = "X-API-Key"
TEXT_LIMIT = 4096  # textMessage.text maxLength (SunCo openapi.yaml)
MAX_REPLIES = 10  # the spec sets no count; more than this reads badly on a phone (our choice, as the sandbox's)
SOURCE = "sunco"  # the claims of this webhook's events (common/state/claims.py)


def conversation_language(conversation_id: str, hint: Optional[str] = None) -> str:
    """The language to speak in outside a Rasa turn: the one given, the one the assistant remembers for this
    conversation, the one noted at the handoff, else the default."""
    if hint in config.SUPPORTED_LANGUAGES:
        return hint
    remembered = remembered_language(f"sender:{sender_id_for(conversation_id)}")
    if remembered in config.SUPPORTED_LANGUAGES:
        return remembered
    record = channel_state.owner_record(conversation_id)
    if record is not None and record.language in config.SUPPORTED_LANGUAGES:
        return record.language
    return config.DEFAULT_LANGUAGE


class ZendeskMessagingOutput(OutputChannel):
    """Sends the bot's messages into a Sunshine Conversations conversation (recipient: `zendesk:<id>`)."""

    def __init__(self, client: SunshineConversations = None) -> None:
        self.client = client or SunshineConversations()

    @classmethod
    def name(cls) -> Text:
        return ZendeskMessagingInput.name()

    async def _conversation(self, recipient_id: str) -> Optional[str]:
        conversation_id = conversation_of(recipient_id)
        if conversation_id is None:
            logger.error("sunco: cannot reply to %r (not a zendesk conversation)", recipient_id)
            return None
        if await asyncio.to_thread(channel_state.owner, conversation_id) == channel_state.AGENT:
            logger.info("sunco: conversation %s is with an agent; the bot stays silent", conversation_id)
            return None
        return conversation_id

    async def _send_text(self, conversation_id: str, text: str, actions: List[Dict[str, Any]] = ()) -> None:
        pieces = split_text(text or "", TEXT_LIMIT)
        for number, piece in enumerate(pieces or [""], start=1):
            content: Dict[str, Any] = {"type": "text"}
            if piece:
                content["text"] = piece
            if number == max(len(pieces), 1) and actions:
                content["actions"] = list(actions)
            if "text" in content or "actions" in content:
                await self.client.post_message(conversation_id, content)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        conversation_id = await self._conversation(recipient_id)
        if conversation_id:
            await self._send_text(conversation_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        conversation_id = await self._conversation(recipient_id)
        if not conversation_id:
            return
        if len(buttons) <= MAX_REPLIES:
            await asyncio.to_thread(channel_state.offer_choices, conversation_id, [])  # these buttons supersede
            await self._send_text(conversation_id, text, [button_action(b) for b in buttons])
            return
        # Too many for buttons: a numbered list, which the customer answers by typing a number or a title.
        language = await asyncio.to_thread(conversation_language, conversation_id)
        lines = [render("sunco_pick_a_number", language)["text"]]
        lines += [f"{n}. {' '.join(str(b.get('title') or '').split())}" for n, b in enumerate(buttons, start=1)]
        choices = [
            (" ".join(str(b.get("title") or "").split()), str(b.get("payload") or b.get("url") or "")) for b in buttons
        ]
        await asyncio.to_thread(channel_state.offer_choices, conversation_id, choices)
        await self._send_text(conversation_id, f"{text}\n\n" + "\n".join(lines) if text else "\n".join(lines))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        conversation_id = await self._conversation(recipient_id)
        if conversation_id:
            await self.client.post_message(conversation_id, {"type": "image", "mediaUrl": image})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[str, Any], **kwargs: Any) -> None:
        handoff = json_message.get("handoff") if isinstance(json_message, dict) else None
        if isinstance(handoff, dict):
            await self.hand_over(recipient_id, handoff)
        else:  # raw JSON means nothing to a customer
            logger.warning("sunco: custom message without `handoff` not sent to %s", recipient_id)

    async def hand_over(self, recipient_id: str, handoff: Dict[str, Any]) -> bool:
        """Passes the conversation to the agents with what the bot learnt; True if SunCo took it."""
        conversation_id = await self._conversation(recipient_id)
        if not conversation_id:
            return False
        language = language_hint(handoff.get("language"))
        metadata = flat_metadata(handoff)
        if await self.client.pass_control(conversation_id, config.SUNCO_AGENT_INTEGRATION, metadata):
            await asyncio.to_thread(
                channel_state.set_owner, conversation_id, channel_state.AGENT, None, "handoff", language
            )
            logger.info("sunco: conversation %s passed to %s", conversation_id, config.SUNCO_AGENT_INTEGRATION)
            return True
        language = await asyncio.to_thread(conversation_language, conversation_id, language)
        await self._send_text(conversation_id, render("sunco_handoff_failed", language)["text"])
        return False


def _claim(key: str, sender_id: str) -> str:
    return claims.claim(SOURCE, key, sender_id, config.SUNCO_WEBHOOK_STALE_CLAIM_SECONDS)


class ZendeskMessagingInput(InputChannel):
    """Receives the Sunshine Conversations app's webhook."""

    @classmethod
    def name(cls) -> Text:
        return "zendesk"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        return hook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return ZendeskMessagingOutput()

    @staticmethod
    def authentic(request: Request) -> bool:
        given, secret = request.headers.get(API_KEY_HEADER) or "", config.SUNCO_WEBHOOK_SECRET
        if not secret:
            logger.error("sunco: SUNCO_WEBHOOK_SECRET is not set; every delivery is refused")
            return False
        return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        self.app = request.app  # the Rasa server: its agent hears when an agent hands the conversation back
        if not self.authentic(request):
            logger.warning("sunco webhook refused: missing or wrong %s", API_KEY_HEADER)
            return webhook_answer(401, "refused", error="invalid webhook secret")
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return webhook_answer(400, "refused", error="body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return webhook_answer(400, "refused", error="no events")
        app_id = (body.get("app") or {}).get("id")
        if app_id and config.SUNCO_APP_ID and app_id != config.SUNCO_APP_ID:
            logger.warning("sunco webhook for app %s refused (this bot serves %s)", app_id, config.SUNCO_APP_ID)
            return webhook_answer(400, "refused", error="another app")

        outcomes = []
        for event in body["events"]:
            try:
                outcome = await self.handle_event(event if isinstance(event, dict) else {}, on_new_message)
            except Exception:  # noqa: BLE001 - one bad event must not hide the others; SunCo delivers again
                logger.exception("sunco: event %s failed", (event or {}).get("id") if isinstance(event, dict) else "?")
                outcome = "retry"
            outcomes.append({"id": event.get("id") if isinstance(event, dict) else None, "outcome": outcome})
        found = {o["outcome"] for o in outcomes}
        if "retry" in found:
            return webhook_answer(500, "retry", events=outcomes)
        if "busy" in found:
            return webhook_answer(409, "in progress", events=outcomes)
        return webhook_answer(200, "ok", events=outcomes)

    async def handle_event(self, event: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        kind, payload = event.get("type"), event.get("payload") or {}
        conversation = payload.get("conversation") or {}
        conversation_id = conversation.get("id")
        if not conversation_id:
            return "ignored"
        if kind in ("switchboard:passControl", "switchboard:acceptControl", "switchboard:releaseControl"):
            return await self.control_changed(event, conversation_id, conversation, payload)
        if kind == "conversation:message":
            message = payload.get("message") or {}
            author = message.get("author") or {}
            if author.get("type") != "user":  # our own replies, agents', other bots': not for us to answer
                return "ignored"
            text = message_text(message.get("content") or {})
            user_id, user, key = author.get("userId"), author.get("user") or {}, message.get("id") or event.get("id")
            source, message_id = message.get("source") or {}, message.get("id")
        elif kind == "conversation:postback":
            postback = payload.get("postback") or {}
            text = postback.get("payload") if isinstance(postback.get("payload"), str) else None
            user = payload.get("user") or {}
            user_id, key, source, message_id = user.get("id"), event.get("id"), payload.get("source") or {}, None
        else:
            return "ignored"
        if not key:
            return "ignored"

        # The platform's own word on who answers, when it is newer than what we know.
        said, at = controller(conversation.get("activeSwitchboardIntegration")), event_time(event)
        if said and at:
            await asyncio.to_thread(channel_state.set_owner, conversation_id, said, at, kind)
        if await asyncio.to_thread(channel_state.owner, conversation_id) == channel_state.AGENT:
            return "agent"  # the bot stays silent while an agent has the conversation
        if not text or not text.strip():
            return "ignored"

        sender_id = sender_id_for(conversation_id)
        claim = await asyncio.to_thread(_claim, key, sender_id)
        if claim == "done":
            return "duplicate"
        if claim == "busy":
            return "busy"
        choices = await asyncio.to_thread(channel_state.offered_choices, conversation_id)
        if choices:  # a numbered list answers the very next message only
            await asyncio.to_thread(channel_state.offer_choices, conversation_id, [])
            text = picked_choice(text, choices) or text
        user_message = UserMessage(
            text,
            ZendeskMessagingOutput(),
            sender_id,
            input_channel=self.name(),
            message_id=message_id or key,
            metadata=user_metadata(conversation, user_id, user, source, message_id),
        )
        try:
            await on_new_message(user_message)
        except Exception:  # noqa: BLE001 - SunCo delivers again; the claim must not stop that
            logger.exception("sunco: conversation %s: the message could not be handled", conversation_id)
            await asyncio.to_thread(claims.release, SOURCE, key)
            return "retry"
        await asyncio.to_thread(claims.complete, SOURCE, key)
        return "delivered"

    async def handoff_ended(self, conversation_id: str) -> bool:
        """Tells the conversation the agent is done (EXTERNAL_handoff_ended: the bot says it is back and may
        ask the satisfaction survey), inside Rasa so it is in the history; False if Rasa cannot be reached."""
        app = getattr(self, "app", None)
        agent = getattr(app.ctx, "agent", None) if app is not None else None
        if agent is None or not agent.is_ready() or HANDOFF_ENDED not in agent.domain.intents:
            return False
        try:
            return await tell_conversation(app, agent, sender_id_for(conversation_id), HANDOFF_ENDED, [])
        except Exception:  # noqa: BLE001 - the plain "I'm back" still goes
            logger.exception("sunco: conversation %s: could not tell Rasa the handoff ended", conversation_id)
            return False

    async def control_changed(
        self, event: Dict[str, Any], conversation_id: str, conversation: Dict[str, Any], payload: Dict[str, Any]
    ) -> str:
        if event.get("type") == "switchboard:releaseControl":
            owner = channel_state.BOT  # nobody in control: the next message goes to the default responder, the bot
        else:
            owner = controller(conversation.get("activeSwitchboardIntegration"))
            if owner is None:
                return "ignored"
        reason = payload.get("reason") or event.get("type")
        before, changed = await asyncio.to_thread(
            channel_state.set_owner, conversation_id, owner, event_time(event) or clock.now(), reason
        )
        if changed and before == channel_state.AGENT and owner == channel_state.BOT and config.SUNCO_SAY_BACK:
            if not await self.handoff_ended(conversation_id):
                language = await asyncio.to_thread(conversation_language, conversation_id)
                await ZendeskMessagingOutput().send_text_message(
                    sender_id_for(conversation_id), render("sunco_bot_back", language)["text"]
                )
        logger.info("sunco: conversation %s now answered by the %s (%s)", conversation_id, owner, reason)
        return f"{owner} in control"
