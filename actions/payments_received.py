"""The customer paid on the card payment page: tell them, in their language (action_payment_received).

Runs on the external intent EXTERNAL_payment_received that connectors/payment_webhook.py triggers when the
gateway's signed `checkout.session.completed` arrives. Anyone can also type `/EXTERNAL_payment_received{...}`
in a chat, so nothing in the event is believed: the session is read again from the gateway, and must be paid,
belong to this very conversation and carry the same reference. Card data never reaches the assistant (the
gateway keeps only brand and last four digits, and this action does not use them).
"""

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.formatting import money
from actions.i18n import language_of, say
from actions.identity import sessions
from actions.identity.verified import channel_identity
from clients import BackendError, BackendUnavailable
from clients.payments import PaymentsClient, major_units
from common import clock, phone

logger = logging.getLogger(__name__)

CHECKOUT_ID, REFERENCE = "payment_checkout_id", "payment_reference"  # entities set by the webhook connector
CHECKOUT_ID_SHAPE = re.compile(r"cs_[A-Za-z0-9_]{1,120}")
TOPUP_PREFIX = "topup:"


def entity(tracker: Tracker, name: str) -> Optional[str]:
    value = next(
        (e.get("value") for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == name), None
    )
    return None if value is None else str(value)


def gateway_session(checkout_id: str) -> Dict[str, Any]:
    """The checkout session as the gateway has it now (the whole of it: the reference, the amount, the metadata)."""
    return PaymentsClient().checkout_session(checkout_id)


class ActionPaymentReceived(Action):
    def name(self) -> Text:
        return "action_payment_received"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        checkout_id = entity(tracker, CHECKOUT_ID) or ""
        if not CHECKOUT_ID_SHAPE.fullmatch(checkout_id):
            logger.warning("%s: no checkout id in %s's latest message", self.name(), tracker.sender_id)
            return []
        language = language_of(tracker)
        try:
            session = gateway_session(checkout_id)
        except BackendUnavailable as error:
            logger.warning("%s: gateway unavailable for %s: %s", self.name(), checkout_id, error)
            say(dispatcher, tracker, "card_payment_unconfirmed", language)
            return []
        except BackendError as error:  # 404: no such session
            logger.warning("%s: gateway refused %s: %s", self.name(), checkout_id, error)
            return []

        reference = (session.get("client_reference_id") or "").strip()
        claimed = entity(tracker, REFERENCE)
        problems = [
            problem
            for problem, bad in (
                ("not paid", session.get("payment_status") != "paid"),
                ("another conversation's", (session.get("metadata") or {}).get("conversation_id") != tracker.sender_id),
                ("another reference", claimed is not None and claimed.strip() != reference),
            )
            if bad
        ]
        if problems:
            logger.warning("%s: session %s is %s: nothing said", self.name(), checkout_id, ", ".join(problems))
            return []

        currency = str(session.get("currency") or "").upper()
        paid = major_units(session.get("amount_total") or 0, currency)
        amount = money(paid, currency, language)  # what the card paid, in the gateway's words
        if reference.lower().startswith(TOPUP_PREFIX):
            self.topped_up(dispatcher, tracker, language, reference[len(TOPUP_PREFIX) :].strip(), currency, amount)
        elif reference:
            self.bill_paid(dispatcher, tracker, language, reference, amount)
        else:
            say(dispatcher, tracker, "card_payment_received", language, amount=amount)
        return []

    @staticmethod
    def bill_paid(dispatcher: CollectingDispatcher, tracker: Tracker, language: str, bill_id: str, amount: str) -> None:
        try:
            bill = bss().bill(bill_id)
        except (BackendUnavailable, BackendError) as error:
            logger.warning("action_payment_received: bill %s unreadable: %s", bill_id, error)
            bill = None
        if bill is None or bill.state not in ("settled", "partiallyPaid"):  # unknown to us, or not applied yet
            say(
                dispatcher,
                tracker,
                "card_payment_bill_received",
                language,
                bill=bill.bill_no if bill else bill_id,
                amount=amount,
            )
        elif bill.settled:
            say(
                dispatcher,
                tracker,
                "card_payment_bill_paid",
                language,
                bill=bill.bill_no,
                amount=money(bill.amount, bill.currency, language),
            )
        else:
            say(
                dispatcher,
                tracker,
                "card_payment_bill_partly_paid",
                language,
                bill=bill.bill_no,
                amount=amount,
                left=money(bill.remaining, bill.currency, language),
            )

    @staticmethod
    def topped_up(
        dispatcher: CollectingDispatcher, tracker: Tracker, language: str, msisdn: str, currency: str, amount: str
    ) -> None:
        try:
            number = phone.masked(msisdn)
        except Exception:  # noqa: BLE001 - not a number we can show: confirm the payment alone
            say(dispatcher, tracker, "card_payment_received", language, amount=amount)
            return
        balance = None
        try:
            identity = sessions.current(tracker.sender_id, touch=False) or channel_identity(tracker)
            if identity is not None and identity.subject == f"line:{msisdn}":  # the line's own holder
                now = clock.now()
                balance = sum(
                    b.amount
                    for b in bss().buckets(msisdn)
                    if b.bucket_type == "main" and b.status == "active" and (b.expires_at is None or b.expires_at > now)
                )
        except (BackendUnavailable, BackendError) as error:
            logger.warning("action_payment_received: balance of the topped-up line unreadable: %s", error)
        if balance is None:
            say(dispatcher, tracker, "card_payment_topup_done", language, amount=amount, number=number)
        else:
            say(
                dispatcher,
                tracker,
                "card_payment_topup_done_balance",
                language,
                amount=amount,
                number=number,
                balance=money(balance, currency, language),
            )
