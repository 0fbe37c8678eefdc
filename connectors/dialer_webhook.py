"""The contact centre dialer's call outcomes, as a Rasa input channel: what happens after an outbound call.

credentials.yml:   connectors.dialer_webhook.DialerWebhookInput:
routes:            POST /webhooks/dialer/webhook   (signed: `Dialer-Signature: t=<unix>,v1=<HMAC-SHA256>`)

One event per call: {"id": "call_...", "number": "+229...", "status": "answered|no_answer|busy|voicemail|failed",
"disposition": "resolved|callback|...", "language": "fr" (optional)}.
  no_answer, busy, voicemail   -> today's missed-call follow-up campaign gets the number;
  answered and resolved        -> today's post-call satisfaction survey gets it;
  anything else                -> recorded as handled, nothing sent.
The campaign sender (campaigns/sender.py) then reaches the customer on their channel, in their language, inside
the sending hours, and never twice in a day. Each call is taken in once (common/state/claims.py); a redelivery
answers 200 and does nothing.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from common import config, phone, signed_webhooks
from common.i18n import render
from common.state import campaigns, claims
from connectors.external_events import webhook_answer

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "Dialer-Signature"
SOURCE = "dialer"
MISSED = {"no_answer", "busy", "voicemail"}
FOLLOW_UPS = {"missed_call": "campaign_text_missed_call", "post_call_survey": "campaign_text_post_call_survey"}


def follow_up_for(status: str, disposition: str) -> Optional[str]:
    """The kind of message a call's outcome calls for, if any."""
    if status in MISSED:
        return "missed_call"
    if status == "answered" and disposition in ("resolved", "closed"):
        return "post_call_survey"
    return None


def take_in(event: Dict[str, Any]) -> str:
    """Queues the follow-up of one call event; answers what was done."""
    kind = follow_up_for(str(event.get("status") or ""), str(event.get("disposition") or ""))
    if kind is None:
        return "no follow-up"
    numbers = phone.candidates(str(event.get("number") or ""))
    if not numbers:
        return "not a valid number"
    messages = {language: render(FOLLOW_UPS[kind], language)["text"] for language in ("fr", "es", "en")}
    campaign = campaigns.standing(kind, messages)
    language = event.get("language") if event.get("language") in ("fr", "es", "en") else ""
    added = campaigns.add_recipients(campaign.id, [{"msisdn": numbers[0], "language": language}])
    return f"{kind} queued" if added else f"{kind} already sent today"


class DialerWebhookInput(InputChannel):
    """Receives the dialer's signed call outcomes; says nothing itself (the campaign sender does)."""

    @classmethod
    def name(cls) -> Text:
        return "dialer"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request)

        return hook

    async def handle(self, request: Request) -> HTTPResponse:
        try:
            event = signed_webhooks.verify(
                request.body or b"",
                request.headers.get(SIGNATURE_HEADER) or "",
                config.DIALER_WEBHOOK_SECRET,
                config.DIALER_WEBHOOK_TOLERANCE_SECONDS,
            )
        except signed_webhooks.InvalidSignature as error:
            logger.warning("dialer webhook refused: %s", error)
            return webhook_answer(401, "refused", error="invalid signature")
        except ValueError:
            return webhook_answer(400, "refused", error="body is not JSON")
        if not isinstance(event, dict) or not event.get("id"):
            return webhook_answer(400, "refused", error="not a call event")
        call_id = str(event["id"])
        claim = await asyncio.to_thread(claims.claim, SOURCE, call_id, None, config.DIALER_STALE_CLAIM_SECONDS)
        if claim == "done":
            return webhook_answer(200, "duplicate")
        if claim == "busy":
            return webhook_answer(409, "in progress", error="this call is being handled; deliver it again later")
        try:
            outcome = await asyncio.to_thread(take_in, event)
        except Exception:  # noqa: BLE001 - whatever it was, the dialer must deliver again
            logger.exception("dialer call %s could not be taken in", call_id)
            await asyncio.to_thread(claims.release, SOURCE, call_id)
            return webhook_answer(500, "retry", error="not taken in; deliver again")
        await asyncio.to_thread(claims.complete, SOURCE, call_id)
        return webhook_answer(200, "ok", result=outcome)
