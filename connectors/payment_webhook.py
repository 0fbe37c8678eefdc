"""The card payment gateway's webhook, as a Rasa input channel, and the proactive "your payment went through".

credentials.yml:   connectors.payment_webhook.PaymentWebhookInput:
routes:            POST /webhooks/payment_webhook/webhook   (the gateway's signed events)
                   GET  /webhooks/payment_webhook/          (health)

A `checkout.session.completed` event whose session is `paid` becomes an external event in the conversation
that created the checkout (`metadata.conversation_id`): what Rasa's `POST /conversations/<id>/trigger_intent
?output_channel=latest` does, intent `EXTERNAL_payment_received`, so the rule runs `action_payment_received`,
which re-checks the session with the gateway before telling the customer anything.

- The signature (`Sandbox-Signature`) is checked on the raw body before anything is read from it.
- Each event is acted on once: its id is written first (common/state/claims.py), so a redelivery or
  a concurrent twin answers 200 (already done) or 409 (being done: the gateway retries later) without a
  second message.
- Nothing is lost: if the conversation cannot be reached (model not loaded, an exception, no reply produced),
  the claim is released and the answer is 5xx, so the gateway delivers again.
- The reply goes to the conversation's latest input channel when that channel can push (socket.io); a
  request-response channel (rest) cannot, so it is collected and stays in the tracker (the conversation's
  history, readable through Rasa's HTTP API or by an agent) rather than reaching the customer's screen.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clients import payments
from common import config
from common.state import claims
from connectors.external_events import tell_conversation, webhook_answer

logger = logging.getLogger(__name__)

INTENT = "EXTERNAL_payment_received"
COMPLETED = "checkout.session.completed"
SIGNATURE_HEADER = "Sandbox-Signature"
SOURCE = "payments"  # the claims of this webhook's events (common/state/claims.py)
# The entities the external event carries (action_payment_received reads them from latest_message; they
# need not be domain entities: Rasa keeps them on the event, and the action re-checks everything anyway).
CHECKOUT_ID, REFERENCE, AMOUNT, CURRENCY = (
    "payment_checkout_id",
    "payment_reference",
    "payment_amount",
    "payment_currency",
)


def _claim(event_id: str, conversation_id: str) -> str:
    return claims.claim(SOURCE, event_id, conversation_id, config.PAYMENTS_WEBHOOK_STALE_CLAIM_SECONDS)


def event_entities(checkout: Dict[str, Any]) -> List[Dict[str, Any]]:
    currency = str(checkout.get("currency") or "").upper()
    entities = [
        {"entity": CHECKOUT_ID, "value": checkout["id"]},
        {"entity": REFERENCE, "value": checkout.get("client_reference_id") or ""},
        {"entity": CURRENCY, "value": currency},
    ]
    if checkout.get("amount_total") is not None and currency:
        entities.append({"entity": AMOUNT, "value": payments.major_units(checkout["amount_total"], currency)})
    return entities


class PaymentWebhookInput(InputChannel):
    """Receives the payment gateway's signed events; sends nothing itself (no output channel)."""

    @classmethod
    def name(cls) -> Text:
        return "payment_webhook"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request)

        return hook

    async def handle(self, request: Request) -> HTTPResponse:
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            logger.warning("payment webhook without %s refused", SIGNATURE_HEADER)
            return webhook_answer(400, "refused", error="missing signature")
        try:
            event = payments.verify_webhook(request.body or b"", header)
        except payments.InvalidSignature as error:
            logger.warning("payment webhook refused: %s", error)
            return webhook_answer(401, "refused", error="invalid signature")
        except ValueError:  # signed, but not JSON
            return webhook_answer(400, "refused", error="body is not JSON")
        if not isinstance(event, dict) or not event.get("id"):
            return webhook_answer(400, "refused", error="not an event")

        event_id, kind = str(event["id"]), event.get("type")
        checkout = ((event.get("data") or {}).get("object")) or {}
        if kind != COMPLETED:
            return webhook_answer(200, "ignored", reason=f"event type {kind}")
        if not isinstance(checkout, dict) or checkout.get("payment_status") != "paid" or not checkout.get("id"):
            return webhook_answer(200, "ignored", reason="session not paid")
        conversation_id = str((checkout.get("metadata") or {}).get("conversation_id") or "")
        if not conversation_id:
            logger.info("payment %s: no conversation to tell (paid outside the chat)", checkout["id"])
            return webhook_answer(200, "ignored", reason="no conversation")

        try:
            entities = event_entities(checkout)
        except (TypeError, ValueError):
            return webhook_answer(400, "refused", error="malformed session")

        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return webhook_answer(503, "retry", error="no model loaded yet")
        if not await agent.tracker_store.exists(conversation_id):
            logger.warning("payment %s: conversation %s is unknown", checkout["id"], conversation_id)
            return webhook_answer(200, "ignored", reason="unknown conversation")

        claim = await asyncio.to_thread(_claim, event_id, conversation_id)
        if claim == "done":
            return webhook_answer(200, "duplicate")
        if claim == "busy":
            return webhook_answer(409, "in progress", error="this event is being handled; deliver it again later")
        try:
            told = await tell_conversation(request.app, agent, conversation_id, INTENT, entities)
        except Exception:  # noqa: BLE001 - whatever it was, the gateway must deliver again
            logger.exception("payment %s: could not reach conversation %s", checkout["id"], conversation_id)
            told = False
        if not told:
            await asyncio.to_thread(claims.release, SOURCE, event_id)
            return webhook_answer(500, "retry", error="the conversation could not be told; deliver again")
        await asyncio.to_thread(claims.complete, SOURCE, event_id)
        logger.info("payment %s: conversation %s told (event %s)", checkout["id"], conversation_id, event_id)
        return webhook_answer(200, "delivered")

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None
