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
"""
import asyncio
import hmac
import json
import logging
import re
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common import config
from common.i18n import render
from common.state import channel_state, claims, remembered_language
from connectors.external_events import tell_conversation, webhook_answer
from common.text import split_text
from privacy.redaction import redact_cards

logger = logging.getLogger(__name__)
# injected when an agent hands the conversation back (action_handoff_ended)
HANDOFF_ENDED = "EXTERNAL_handoff_ended"

SENDER_PREFIX = "zendesk:"
API_KEY_HEADER = "X-API-Key"
TEXT_LIMIT = 4096  # textMessage.text maxLength (SunCo openapi.yaml)
REPLY_TITLE_LIMIT = 40  # reply action text: longer is cut on the Web Widget, iOS and Android (same spec)
MAX_REPLIES = 10  # the spec sets no count; more than this reads badly on a phone (our choice, as the sandbox's)
METADATA_LIMIT = 4096  # passControl metadata: flat, at most 4 KB
SOURCE = "sunco"  # the claims of this webhook's events (common/state/claims.py)
NUMBER_TYPED = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


# --- who is who ---------------------------------------------------------------------------------------

def sender_id_for(conversation_id: str) -> str:
    return SENDER_PREFIX + conversation_id


def conversation_of(sender_id: str) -> Optional[str]:
    return sender_id[len(SENDER_PREFIX):] if sender_id and sender_id.startswith(SENDER_PREFIX) else None


def controller(active: Optional[Dict[str, Any]]) -> Optional[str]:
    """Whether an `activeSwitchboardIntegration` is the bot or an agent (None: nobody, or not said)."""
    if not isinstance(active, dict) or not active:
        return None
    names = {str(active.get(k)) for k in ("id", "name", "integrationId", "integrationType") if active.get(k)}
    if config.SUNCO_BOT_INTEGRATION:
        return channel_state.BOT if config.SUNCO_BOT_INTEGRATION in names else channel_state.AGENT
    # Without a configured name: the bot is the switchboard's custom integration (the one owning this
    # webhook); the Agent Workspace is `zd:agentWorkspace`, Zendesk's own bots `zd:answerBot`...
    return channel_state.BOT if active.get("integrationType") == "custom" else channel_state.AGENT


def event_time(event: Dict[str, Any]) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(str(event.get("createdAt")).replace("Z", "+00:00"))
    except ValueError:
        return None


def language_hint(locale: Any) -> Optional[str]:
    language = str(locale or "")[:2].lower()
    return language if language in config.SUPPORTED_LANGUAGES else None


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


# --- what the customer sent ---------------------------------------------------------------------------

def location_payload(coordinates: Dict[str, Any]) -> Optional[str]:
    try:
        lat, lon = float(coordinates["lat"]), float(coordinates["long"])
    except (KeyError, TypeError, ValueError):
        return None
    return "/find_store" + json.dumps({"location": f"{lat},{lon}"})


def message_text(content: Dict[str, Any]) -> Optional[str]:
    """What Rasa should read from a message's content; None when there is nothing to read."""
    kind = content.get("type")
    if kind == "location":
        return location_payload(content.get("coordinates") or {})
    payload = content.get("payload")
    if isinstance(payload, str) and payload.startswith("/"):  # a reply button we sent: its payload, not its title
        return payload
    text = content.get("text")
    return text if isinstance(text, str) and text.strip() else None


def picked_choice(text: str, choices: List[Tuple[str, str]]) -> Optional[str]:
    """The payload of the option a typed answer names: its number in the list, or its exact title."""
    number = NUMBER_TYPED.fullmatch(text)
    if number and 1 <= int(number.group(1)) <= len(choices):
        return choices[int(number.group(1)) - 1][1]
    typed = " ".join(text.split()).casefold()
    return next((payload for title, payload in choices if " ".join(title.split()).casefold() == typed), None)


def user_metadata(conversation: Dict[str, Any], user_id: Optional[str], user: Dict[str, Any],
                  source: Dict[str, Any], message_id: Optional[str]) -> Dict[str, Any]:
    profile = user.get("profile") or {}
    about = {"conversation_id": conversation.get("id"), "user_id": user_id or user.get("id"),
             "external_id": user.get("externalId"), "zendesk_id": user.get("zendeskId"),
             "authenticated": user.get("authenticated"), "source": source.get("type"), "message_id": message_id,
             "profile": {k: profile.get(k) for k in ("givenName", "surname", "email", "locale") if profile.get(k)}}
    metadata: Dict[str, Any] = {"zendesk": {k: v for k, v in about.items() if v not in (None, {}, "")}}
    if profile.get("locale"):
        metadata["locale"] = profile["locale"]  # what actions/language.py reads at session start
    return metadata


# --- what we send -------------------------------------------------------------------------------------

def short_title(title: Any) -> str:
    title = " ".join(str(title or "").split())
    return title if len(title) <= REPLY_TITLE_LIMIT else title[:REPLY_TITLE_LIMIT - 1].rstrip() + "…"


def button_action(button: Dict[str, Any]) -> Dict[str, Any]:
    if button.get("url"):
        return {"type": "link", "text": short_title(button.get("title")), "uri": button["url"]}
    return {"type": "reply", "text": short_title(button.get("title")), "payload": str(button.get("payload") or "")}


def flat_metadata(handoff: Dict[str, Any]) -> Dict[str, str]:
    """passControl metadata: flat, string values ("identity.line": "+229..."), card numbers masked, and
    within 4 KB (the summary is shortened first); plus the tags the Agent Workspace copies to the ticket."""
    flat: Dict[str, str] = {}

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(f"{key}.{name}" if key else str(name), inner)
        elif isinstance(value, (list, tuple)):
            flat[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif value is not None:
            flat[key] = redact_cards(str(value))

    walk("", handoff)
    tags = ["chatbot"] + [re.sub(r"[^a-z0-9_]+", "_", f"{name}_{flat[name]}".lower()).strip("_")
                          for name in ("topic", "segment", "language") if flat.get(name)]
    flat.setdefault("dataCapture.systemField.tags", ",".join(tags))  # unless the action chose its own

    def size() -> int:
        return len(json.dumps(flat, ensure_ascii=False).encode("utf-8"))

    while size() > METADATA_LIMIT:
        longest = "summary" if len(flat.get("summary", "")) > 40 else max(flat, key=lambda k: len(flat[k]))
        value = flat[longest]
        if len(value) <= 40:  # only short values left (a great many keys): drop some
            del flat[longest]
            continue
        keep = max(0, len(value) - (size() - METADATA_LIMIT) - 2)
        flat[longest] = value[:keep].rstrip() + "…" if keep else ""
    return flat


class SunshineConversations:
    """The two calls the bot makes: post a message, pass control."""

    def __init__(self, base_url: str = None, app_id: str = None, key_id: str = None, key_secret: str = None):
        self.base_url = (base_url or config.SUNCO_BASE_URL).rstrip("/")
        self.app_id = app_id or config.SUNCO_APP_ID
        self.auth = aiohttp.BasicAuth(key_id or config.SUNCO_KEY_ID, key_secret or config.SUNCO_KEY_SECRET)

    def url(self, conversation_id: str, operation: str) -> str:
        return f"{self.base_url}/v2/apps/{self.app_id}/conversations/{conversation_id}/{operation}"

    async def _post(self, url: str, body: Dict[str, Any], retry_on_no_answer: bool) -> Tuple[int, Any]:
        timeout = aiohttp.ClientTimeout(sock_connect=config.HTTP_CONNECT_TIMEOUT, sock_read=config.HTTP_READ_TIMEOUT)
        for attempt in (1, 2):
            try:
                async with aiohttp.ClientSession(timeout=timeout) as client:
                    async with client.post(url, json=body, auth=self.auth) as answer:
                        status = answer.status
                        found = await answer.json(content_type=None) if answer.content_length != 0 else None
                        if attempt == 1 and status in (429, 502, 503, 504):
                            # SunCo did not take it: once more, after what it asks (within reason)
                            await asyncio.sleep(min(float(answer.headers.get("Retry-After") or 1), 5))
                            continue
                        return status, found
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                if attempt == 1 and retry_on_no_answer:
                    continue
                logger.warning("sunco: POST %s failed: %s", url.rsplit("/", 1)[-1], type(error).__name__)
                return 0, None
        return 0, None

    async def post_message(self, conversation_id: str, content: Dict[str, Any]) -> bool:
        # A message is not idempotent: no retry when the answer is lost (it may have been posted).
        status, found = await self._post(self.url(conversation_id, "messages"),
                                         {"author": {"type": "business"}, "content": content}, False)
        if status != 201:
            logger.error("sunco: message to conversation %s refused: %s %s", conversation_id, status, found)
        return status == 201

    async def pass_control(self, conversation_id: str, integration: str, metadata: Dict[str, str]) -> bool:
        # passControl to the integration already in control changes nothing: safe to retry.
        status, found = await self._post(self.url(conversation_id, "passControl"),
                                         {"switchboardIntegration": integration, "metadata": metadata}, True)
        if status != 200:
            logger.error("sunco: passControl of conversation %s refused: %s %s", conversation_id, status, found)
        return status == 200


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

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
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
        choices = [(" ".join(str(b.get("title") or "").split()), str(b.get("payload") or b.get("url") or ""))
                   for b in buttons]
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
            await asyncio.to_thread(channel_state.set_owner, conversation_id, channel_state.AGENT, None, "handoff",
                                    language)
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
        user_message = UserMessage(text, ZendeskMessagingOutput(), sender_id, input_channel=self.name(),
                                   message_id=message_id or key,
                                   metadata=user_metadata(conversation, user_id, user, source, message_id))
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

    async def control_changed(self, event: Dict[str, Any], conversation_id: str, conversation: Dict[str, Any],
                              payload: Dict[str, Any]) -> str:
        if event.get("type") == "switchboard:releaseControl":
            now = channel_state.BOT  # nobody in control: the next message goes to the default responder, the bot
        else:
            now = controller(conversation.get("activeSwitchboardIntegration"))
            if now is None:
                return "ignored"
        reason = payload.get("reason") or event.get("type")
        before, changed = await asyncio.to_thread(channel_state.set_owner, conversation_id, now,
                                                  event_time(event) or now(), reason)
        if changed and before == channel_state.AGENT and now == channel_state.BOT and config.SUNCO_SAY_BACK:
            if not await self.handoff_ended(conversation_id):
                language = await asyncio.to_thread(conversation_language, conversation_id)
                await ZendeskMessagingOutput().send_text_message(sender_id_for(conversation_id),
                                                                 render("sunco_bot_back", language)["text"])
        logger.info("sunco: conversation %s now answered by the %s (%s)", conversation_id, now, reason)
        return f"{now} in control"
