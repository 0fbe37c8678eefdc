"""Facebook Messenger as a Rasa channel, held to the same standard as WhatsApp (Rasa's own `facebook`
channel checks only the SHA-1 X-Hub-Signature, with a plain ==, and answers a forgery 200).

credentials.yml:  connectors.messenger.MessengerInput:   (keys left empty are read from common/config.py)
routes:           GET  /webhooks/messenger/webhook   Meta's verification handshake (hub.challenge)
                  POST /webhooks/messenger/webhook   signed webhooks (X-Hub-Signature-256), see connectors/graph_api.py
                  GET  /webhooks/messenger/          health

Inbound: the Rasa sender id is the page-scoped id (PSID). Text; a quick reply or a postback (persistent
menu, get started) → its payload; a shared location → /find_store{"location": "<lat>,<lon>"}; deliveries and
reads of campaign messages are recorded (connectors/delivery_reports.py); echoes of the page's own messages and
reactions are acknowledged and ignored.
metadata: timestamp (unix seconds), message_id, page_id.

Outbound (POST {META_GRAPH_URL}/me/messages?access_token=<page token>):
- text in pieces of at most 2000 characters;
- choices as quick replies (at most 13, titles cut to 20 characters with "…", payloads of at most 1000
  characters: a longer one goes as a stored short key); more than 13 → the options numbered in the text;
- link buttons, images and attachments → links in the text;
- messaging_type RESPONSE within 24 hours of the customer's last message; after that MESSAGE_TAG with
  MESSENGER_MESSAGE_TAG (ACCOUNT_UPDATE by default: what a payment confirmation or an outage notice is;
  Meta forbids promotions and surveys under a tag, so an NPS survey after 24 hours must not go this way).
"""

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional

from common import config
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

NAME = "messenger"
TEXT_LIMIT = 2000
QUICK_REPLIES_MAX, QUICK_REPLY_TITLE_LIMIT, QUICK_REPLY_PAYLOAD_LIMIT = 13, 20, 1000


class MessengerInput(MetaWebhookInput):
    @classmethod
    def name(cls) -> str:
        return NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "MessengerInput":
        given = credentials or {}
        return cls(
            verify_token=given.get("verify_token") or config.MESSENGER_VERIFY_TOKEN,
            app_secret=given.get("app_secret") or config.MESSENGER_APP_SECRET,
            page_token=given.get("page_token") or config.MESSENGER_PAGE_TOKEN,
        )

    def __init__(self, verify_token: str, app_secret: str, page_token: str, graph_url: Optional[str] = None) -> None:
        super().__init__(verify_token, app_secret)
        self.page_token, self.graph_url = page_token, graph_url

    def get_output_channel(self) -> "MessengerOutput":
        return MessengerOutput(self.page_token, self.graph_url)

    def delivery_updates(self, payload: Dict[str, Any]) -> List[DeliveryUpdate]:
        """`message_deliveries` (the messages' ids, or a watermark) and `message_reads` (a watermark only: every
        message to that customer sent up to then was read)."""
        if payload.get("object") != "page":
            return []
        found = []
        for entry in payload.get("entry") or []:
            for event in entry.get("messaging") or []:
                psid = str((event.get("sender") or {}).get("id") or "")
                for status, report in (("delivered", event.get("delivery")), ("read", event.get("read"))):
                    if not isinstance(report, dict) or not psid:
                        continue
                    watermark = report.get("watermark")
                    at = sent_time(watermark / 1000 if isinstance(watermark, (int, float)) else None)
                    mids = report.get("mids") or []
                    found += [DeliveryUpdate(status, at, platform_id=str(mid)) for mid in mids]
                    if not mids and isinstance(watermark, (int, float)):
                        found.append(DeliveryUpdate(status, at, conversation_id=psid))
        return found

    def inbound(self, payload: Dict[str, Any]) -> List[Inbound]:
        if payload.get("object") != "page":
            return []
        found = []
        for entry in payload.get("entry") or []:
            for event in entry.get("messaging") or []:  # "standby" (another app has the thread) is left out
                item = self.read(event, str(entry.get("id") or ""))
                if item:
                    found.append(item)
        return found

    @staticmethod
    def read(event: Dict[str, Any], page_id: str) -> Optional[Inbound]:
        sender = str((event.get("sender") or {}).get("id") or "")
        if not re.fullmatch(r"\d{1,32}", sender):
            return None
        if isinstance(event.get("message"), dict):
            message = event["message"]
            if message.get("is_echo"):  # what the page itself sent
                return None
            message_id = message.get("mid")
            text = payload_of((message.get("quick_reply") or {}).get("payload")) or message.get("text")
            for attachment in message.get("attachments") or []:
                if not text and attachment.get("type") == "location":
                    where = (attachment.get("payload") or {}).get("coordinates") or {}
                    text = location_message(where.get("lat"), where.get("long"))
        elif isinstance(event.get("postback"), dict):
            postback = event["postback"]
            message_id = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
            text = payload_of(postback.get("payload")) or postback.get("title")
        else:  # delivery, read, reaction, optin, referral...
            return None
        if not message_id or not text or not str(text).strip():
            return None
        milliseconds = event.get("timestamp")
        moment = sent_time(milliseconds / 1000 if isinstance(milliseconds, (int, float)) else None)
        return Inbound(
            message_id=str(message_id),
            sender_id=sender,
            text=str(text),
            sent_at=moment,
            metadata={
                "channel": NAME,
                "message_id": str(message_id),
                "page_id": page_id,
                "timestamp": int(moment.timestamp()),
            },
        )


class MessengerOutput(MetaOutput):
    @classmethod
    def name(cls) -> str:
        return NAME

    def __init__(self, page_token: str, graph_url: Optional[str] = None) -> None:
        super().__init__(graph_url)
        self.page_token = page_token

    async def _send(
        self, psid: str, message: Dict[str, Any], campaign: Optional[CampaignMessage] = None
    ) -> Optional[Dict[str, Any]]:
        payload: Dict[str, Any] = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}
        if not await asyncio.to_thread(window_open, NAME, psid):
            payload.update(messaging_type="MESSAGE_TAG", tag=config.MESSENGER_MESSAGE_TAG)
        return await self._post("me/messages", payload, campaign, params={"access_token": self.page_token})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"text": piece}, campaign_of(kwargs))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        choices, links = choices_and_links(buttons)
        text = with_links(text or "", links)
        if not choices:
            await self.send_text_message(recipient_id, text, **kwargs)
            return
        language = await asyncio.to_thread(conversation_language, text, f"sender:{recipient_id}")
        if len(choices) > QUICK_REPLIES_MAX:
            await self.send_text_message(recipient_id, numbered_options(text, choices, language), **kwargs)
            return
        quick_replies = await asyncio.to_thread(
            lambda: [
                {
                    "content_type": "text",
                    "title": shorten(title, QUICK_REPLY_TITLE_LIMIT),
                    "payload": button_id(payload, QUICK_REPLY_PAYLOAD_LIMIT),
                }
                for title, payload in choices
            ]
        )
        *before, last = split_text(text, TEXT_LIMIT) or [numbered_options("", choices, language)]
        for piece in before:
            await self._send(recipient_id, {"text": piece}, campaign_of(kwargs))
        await self._send(recipient_id, {"text": last, "quick_replies": quick_replies}, campaign_of(kwargs))
