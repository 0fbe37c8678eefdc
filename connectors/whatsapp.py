"""WhatsApp Cloud API as a Rasa channel.

credentials.yml:  connectors.whatsapp.WhatsAppInput:   (keys left empty are read from common/config.py)
routes:           GET  /webhooks/whatsapp/webhook   Meta's verification handshake (hub.challenge)
                  POST /webhooks/whatsapp/webhook   signed webhooks (X-Hub-Signature-256), see connectors/graph_api.py
                  GET  /webhooks/whatsapp/          health

Inbound: the Rasa sender id is the customer's wa_id (their number without "+"): the action server counts
a conversation on this channel as proof of that number (actions/dialogue/account.py channel_identity).
- text → the text; a reply button or list row → the bot payload it stands for; a shared location →
  /find_store{"location": "<lat>,<lon>"}; a template's quick-reply button → its payload.
- statuses (delivered, read, failed) of campaign messages are recorded (connectors/delivery_reports.py); other
  statuses, other media and other phone numbers' messages are acknowledged, ignored.
- metadata: profile_name, timestamp (unix seconds), message_id, phone_number_id.

Outbound (POST {META_GRAPH_URL}/{phone_number_id}/messages, Bearer access token), within WhatsApp's limits:
- text in pieces of at most 4096 characters;
- 1 to 3 choices → reply buttons (titles cut to 20 characters with "…");
- 4 to 10 → a list (row titles cut to 24, the rest of the title in the row's description, the list button
  "Choisir"/"Elegir"/"Choose" in the customer's language); more than 10, or a text too long for an
  interactive body (1024) → the text with the options numbered (the assistant understands a typed number);
- link buttons, images and attachments → links in the text;
- more than 24 hours after the customer's last message, only an approved template can be sent: every
  message then goes as WHATSAPP_TEMPLATE_NAME with the text as its single body parameter.
"""

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from common import config
from common.i18n import render
from common.text import split_text
from connectors.delivery_reports import CampaignMessage, DeliveryUpdate, campaign_of
from connectors.graph_api import (
    Inbound,
    MetaOutput,
    MetaWebhookInput,
    button_id,
    choices_and_links,
    conversation_language,
    location_message,
    numbered_options,
    payload_of,
    sent_time,
    shorten,
    window_open,
    with_links,
)

logger = logging.getLogger(__name__)

NAME = "whatsapp"
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # an interactive message's body
BUTTONS_MAX, BUTTON_TITLE_LIMIT, BUTTON_ID_LIMIT = 3, 20, 256
ROWS_MAX, ROW_TITLE_LIMIT, ROW_DESCRIPTION_LIMIT, ROW_ID_LIMIT = 10, 24, 72, 200
LIST_BUTTON_LIMIT = 20
TEMPLATE_PARAMETER_LIMIT = 1024


def memory_subjects(wa_id: str) -> Tuple[str, str]:
    """Where the action server remembers this customer's language (actions/language.py memory_subjects)."""
    return f"sender:{wa_id}", f"line:+{wa_id}"


class WhatsAppInput(MetaWebhookInput):
    @classmethod
    def name(cls) -> str:
        return NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WhatsAppInput":
        given = credentials or {}
        return cls(
            verify_token=given.get("verify_token") or config.WHATSAPP_VERIFY_TOKEN,
            app_secret=given.get("app_secret") or config.WHATSAPP_APP_SECRET,
            access_token=given.get("access_token") or config.WHATSAPP_ACCESS_TOKEN,
            phone_number_id=str(given.get("phone_number_id") or config.WHATSAPP_PHONE_NUMBER_ID),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        graph_url: Optional[str] = None,
    ) -> None:
        super().__init__(verify_token, app_secret)
        self.access_token, self.phone_number_id, self.graph_url = access_token, phone_number_id, graph_url

    def get_output_channel(self) -> "WhatsAppOutput":
        return WhatsAppOutput(self.access_token, self.phone_number_id, self.graph_url)

    def delivery_updates(self, payload: Dict[str, Any]) -> List[DeliveryUpdate]:
        """`statuses` (sent, delivered, read, failed with its errors) of messages this number sent."""
        if payload.get("object") != "whatsapp_business_account":
            return []
        found = []
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                number_id = str((value.get("metadata") or {}).get("phone_number_id") or "")
                if change.get("field") != "messages" or (number_id and number_id != self.phone_number_id):
                    continue
                for status in value.get("statuses") or []:
                    if status.get("status") in ("delivered", "read", "failed") and status.get("id"):
                        errors = status.get("errors") or [{}]
                        reason = " ".join(str(errors[0].get(k) or "") for k in ("code", "title")).strip()
                        found.append(
                            DeliveryUpdate(
                                status["status"],
                                sent_time(status.get("timestamp")),
                                platform_id=str(status["id"]),
                                reason=reason or None,
                            )
                        )
        return found

    def inbound(self, payload: Dict[str, Any]) -> List[Inbound]:
        if payload.get("object") != "whatsapp_business_account":
            return []
        found = []
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                if change.get("field") != "messages" or not value.get("messages"):
                    continue  # statuses, template and account updates
                number_id = str((value.get("metadata") or {}).get("phone_number_id") or "")
                if number_id and number_id != self.phone_number_id:
                    logger.warning("whatsapp: message for another phone number id ignored")
                    continue
                names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
                found += filter(None, (self.read(m, names, number_id) for m in value["messages"]))
        return found

    @staticmethod
    def read(message: Dict[str, Any], names: Dict[str, str], number_id: str) -> Optional[Inbound]:
        sender, message_id, kind = str(message.get("from") or ""), message.get("id"), message.get("type")
        if not re.fullmatch(r"\d{6,15}", sender) or not message_id:
            return None
        if kind == "text":
            text = (message.get("text") or {}).get("body")
        elif kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            text = payload_of(reply.get("id")) or reply.get("title")
        elif kind == "button":  # a quick-reply button of a template
            button = message.get("button") or {}
            text = payload_of(button.get("payload")) or button.get("text")
        elif kind == "location":
            where = message.get("location") or {}
            text = location_message(where.get("latitude"), where.get("longitude"))
        else:
            text = None
        if not text or not str(text).strip():
            logger.info("whatsapp: %s message %s not understood, ignored", kind, message_id)
            return None
        moment = sent_time(message.get("timestamp"))
        return Inbound(
            message_id=str(message_id),
            sender_id=sender,
            text=str(text),
            sent_at=moment,
            metadata={
                "channel": NAME,
                "message_id": str(message_id),
                "profile_name": names.get(sender),
                "timestamp": int(moment.timestamp()),
                "phone_number_id": number_id,
            },
        )


def row_text(title: str) -> Dict[str, str]:
    """A list row's title (24 characters), the rest of a longer title in its description (72)."""
    title = " ".join(title.split())
    if len(title) <= ROW_TITLE_LIMIT:
        return {"title": title}
    space = title.rfind(" ", 0, ROW_TITLE_LIMIT)
    head = title[:space] if space >= ROW_TITLE_LIMIT // 2 else title[: ROW_TITLE_LIMIT - 1]
    return {"title": head.rstrip() + "…", "description": shorten(title[len(head) :].strip(), ROW_DESCRIPTION_LIMIT)}


def interactive_message(text: str, choices: Sequence[Tuple[str, str]], language: str) -> Optional[Dict[str, Any]]:
    """Reply buttons (1-3 choices whose cut titles differ) or a list (up to 10); None when neither fits."""
    seen: set = set()
    choices = [c for c in choices if not (c[1] in seen or seen.add(c[1]))]  # one row per payload
    label = render("channel_choose", language)["text"]
    body = {"text": text.strip() or label}
    titles = [shorten(title, BUTTON_TITLE_LIMIT) for title, _ in choices]
    if len(choices) <= BUTTONS_MAX and len(set(titles)) == len(titles):
        return {
            "type": "button",
            "body": body,
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_id(payload, BUTTON_ID_LIMIT), "title": title}}
                    for title, (_, payload) in zip(titles, choices)
                ]
            },
        }
    if len(choices) <= ROWS_MAX:
        rows = [{"id": button_id(payload, ROW_ID_LIMIT), **row_text(title)} for title, payload in choices]
        return {
            "type": "list",
            "body": body,
            "action": {"button": shorten(label, LIST_BUTTON_LIMIT), "sections": [{"rows": rows}]},
        }
    return None


def template_language(language: str, setting: str) -> str:
    """WHATSAPP_TEMPLATE_LANGUAGE: empty → the conversation's; "en_US" → that; "fr:fr,es:es_MX" → per language."""
    setting = (setting or "").strip()
    if not setting:
        return language
    if ":" not in setting:
        return setting
    codes = dict(part.strip().split(":", 1) for part in setting.split(",") if ":" in part)
    return codes.get(language, language).strip()


def template_parameter(text: str) -> str:
    """WhatsApp refuses a template parameter with a line break, a tab or more than 4 spaces in a row."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return shorten(" · ".join(lines), TEMPLATE_PARAMETER_LIMIT) or "…"


class WhatsAppOutput(MetaOutput):
    @classmethod
    def name(cls) -> str:
        return NAME

    def __init__(self, access_token: str, phone_number_id: str, graph_url: Optional[str] = None) -> None:
        super().__init__(graph_url)
        self.access_token, self.phone_number_id = access_token, phone_number_id

    async def _send(
        self, wa_id: str, message: Dict[str, Any], campaign: Optional[CampaignMessage] = None
    ) -> Optional[Dict[str, Any]]:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id, **message}
        return await self._post(
            f"{self.phone_number_id}/messages",
            payload,
            campaign,
            headers={"Authorization": f"Bearer {self.access_token}"},
        )

    async def _language(self, wa_id: str, text: str) -> str:
        return await asyncio.to_thread(conversation_language, text, *memory_subjects(wa_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not (text or "").strip():
            return
        campaign = campaign_of(kwargs)
        if not await asyncio.to_thread(window_open, NAME, recipient_id):
            await self.send_template(recipient_id, text, campaign)
            return
        for piece in split_text(text, TEXT_LIMIT):
            body = {"type": "text", "text": {"body": piece, "preview_url": "http" in piece}}
            await self._send(recipient_id, body, campaign)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        choices, links = choices_and_links(buttons)
        text = with_links(text or "", links)
        if not choices:
            await self.send_text_message(recipient_id, text, **kwargs)
            return
        language = await self._language(recipient_id, text)
        if len(text) <= BODY_LIMIT and await asyncio.to_thread(window_open, NAME, recipient_id):
            interactive = await asyncio.to_thread(interactive_message, text, choices, language)
            if interactive:
                await self._send(recipient_id, {"type": "interactive", "interactive": interactive}, campaign_of(kwargs))
                return
        await self.send_text_message(recipient_id, numbered_options(text, choices, language), **kwargs)

    async def send_template(self, recipient_id: str, text: str, campaign: Optional[CampaignMessage] = None) -> None:
        """Outside the 24-hour window: the approved template, our text as its body parameter."""
        language = template_language(await self._language(recipient_id, text), config.WHATSAPP_TEMPLATE_LANGUAGE)
        await self._send(
            recipient_id,
            {
                "type": "template",
                "template": {
                    "name": config.WHATSAPP_TEMPLATE_NAME,
                    "language": {"code": language},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": template_parameter(text)}]}
                    ],
                },
            },
            campaign,
        )
