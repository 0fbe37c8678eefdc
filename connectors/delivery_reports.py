"""Campaign messages on WhatsApp and Messenger, as the connectors see them (common/state/campaign_deliveries.py
keeps them): the platform's id when one is sent, its refusal when not, the statuses Meta reports afterwards, and
the customer's reply.

The assistant says a campaign message with the campaign and recipient beside the text (actions/campaign_message.py
passes them to `utter_message`; Rasa hands them to the output channel as keyword arguments), so the id the Graph
API answers is recorded against that very message: WhatsApp's statuses and Messenger's deliveries name it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Sequence, Tuple

from clients.errors import retry_after_seconds
from common.state import campaign_deliveries

CampaignMessage = Tuple[str, int]  # (campaign id, campaign recipient id)


@dataclass
class DeliveryUpdate:
    """What the platform says became of a message we sent: delivered, read or failed. By the message's id; or,
    for a Messenger watermark (no id), every message of the conversation sent up to `at`."""

    status: str
    at: datetime
    platform_id: Optional[str] = None
    conversation_id: Optional[str] = None
    reason: Optional[str] = None


def campaign_of(kwargs: Dict[str, Any]) -> Optional[CampaignMessage]:
    """(campaign id, recipient id) when the message being sent is a campaign's."""
    recipient = str(kwargs.get("campaign_recipient") or "")
    if kwargs.get("campaign_id") and recipient.isdigit():
        return str(kwargs["campaign_id"]), int(recipient)
    return None


def recipient_of(payload: Dict[str, Any]) -> str:
    """The wa_id (WhatsApp) or PSID (Messenger) a Graph API request is for."""
    return str(payload.get("to") or (payload.get("recipient") or {}).get("id") or "")


def message_id_of(answer: Dict[str, Any]) -> str:
    """wamid.… (WhatsApp: messages[0].id) or m_… (Messenger: message_id)."""
    messages = answer.get("messages") if isinstance(answer.get("messages"), list) else []
    return str((messages[0] if messages else {}).get("id") or answer.get("message_id") or "")


def campaign_sent(campaign: CampaignMessage, channel: str, payload: Dict[str, Any], answer: Dict[str, Any]) -> None:
    # a template (WhatsApp) or a tag (Messenger): the business started this conversation
    started_by_us = payload.get("type") == "template" or payload.get("messaging_type") == "MESSAGE_TAG"
    campaign_deliveries.chat_sent(
        campaign[1], campaign[0], channel, recipient_of(payload), message_id_of(answer), started_by_us
    )


def campaign_refused(
    campaign: CampaignMessage,
    channel: str,
    payload: Dict[str, Any],
    status: int,
    reason: str,
    retry_after: Optional[str],
) -> None:
    """429: throttled, for the sender to try again after Retry-After; anything else: refused."""
    wait = int(retry_after_seconds(retry_after or "")) if status == 429 else None
    campaign_deliveries.chat_refused(campaign[1], campaign[0], channel, recipient_of(payload), reason, wait)


def apply_updates(channel: str, updates: Sequence[DeliveryUpdate]) -> None:
    """Each update lands on the campaign message it is about (none: one of the assistant's own answers)."""
    for update in updates:
        if update.platform_id:
            campaign_deliveries.chat_update(channel, update.platform_id, update.status, update.at, update.reason)
        elif update.conversation_id:
            campaign_deliveries.chat_update_until(channel, update.conversation_id, update.status, update.at)


def note_reply(channel: str, conversation_id: str, at: datetime) -> None:
    campaign_deliveries.note_reply(channel, conversation_id, at)
