"""Paying an invoice of a postpaid line or home contract (pay_invoice): by card on the gateway's hosted page
or from the mobile money wallet. Listing them: last_invoices (actions/journeys/last_invoices.py)."""

import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import bss
from actions.dialogue.operations import executor, propose
from actions.dialogue.state import DRAFT_SLOT, end_journey
from actions.dialogue.steps import MISSING, Options, Step, StepJourney, Stop, Turn, asks
from actions.formatting import money, short_date
from actions.i18n import language_of
from actions.journeys.top_up import send_checkout_link, wallet_balance
from clients.bss import Bill, Line
from common.i18n import render


def bill_title(bill: Bill, line: Line, language: str) -> str:
    """'oct. · Q299.00' : short enough for a button."""
    when = (
        short_date(bill.period_start or bill.bill_date, line.time_zone, language)
        if (bill.period_start or bill.bill_date)
        else bill.bill_no
    )
    return f"{when} · {money(bill.remaining, bill.currency or line.currency, language)}"


def bill_chosen(turn: Turn, option: Any) -> Any:
    """The unpaid bill chosen, or the only one."""
    unpaid = turn.notes["unpaid"]
    bill = next((b for b in unpaid if b.id == option), None)
    return bill or (unpaid[0] if len(unpaid) == 1 else MISSING)


def bill_options(turn: Turn) -> Options:
    oldest_first = sorted(turn.notes["unpaid"], key=lambda b: b.bill_date.timestamp() if b.bill_date else 0)
    return [(b.id, bill_title(b, turn.line, turn.language)) for b in oldest_first]


class ActionPayInvoice(StepJourney):
    """Pay a bill (pay_invoice): choose it, then a link to the gateway's hosted page (card numbers never
    enter the chat), or the mobile money wallet after a yes. The payment webhook confirms in the chat."""

    intent = "pay_invoice"
    kinds = ("mobile", "home")
    collects = ("option", "payment_method")
    steps = (Step("option", check=bill_chosen, question=asks("pay_ask_bill", options=bill_options)),)

    def name(self) -> Text:
        return "action_pay_invoice"

    def start(self, turn: Turn) -> Optional[Stop]:
        """Postpaid lines and home contracts with a bill to pay."""
        line = turn.line
        if line.payment_type == "prepaid":
            return Stop("invoices_prepaid")
        bills = bss().bills(line.billing_account) if line.billing_account else []
        turn.notes["unpaid"] = [b for b in bills if not b.settled]
        return None if turn.notes["unpaid"] else Stop("pay_nothing_due")

    def finish(self, turn: Turn) -> List[EventType]:
        """From the wallet: proposed, with a yes to come. By card: the hosted page's link (the page confirms)."""
        line, bill, language = turn.line, turn.held["option"], turn.language
        dispatcher, tracker = turn.dispatcher, turn.tracker
        amount = money(bill.remaining, bill.currency or line.currency, language)
        wallet = wallet_balance(line.msisdn) if line.msisdn else None
        if turn.values.get("payment_method") == "wallet" and wallet is not None:
            params = {
                "account": line.billing_account,
                "bill": bill.id,
                "bill_no": bill.bill_no,
                "amount": bill.remaining,
                "currency": bill.currency or line.currency,
                "payer": line.msisdn,
            }
            other = self.button("payment_method", "card", turn.text("pay_by_card"))
            return propose(
                dispatcher,
                tracker,
                line,
                self.intent,
                "bill_wallet",
                params,
                "pay_summary_wallet",
                turn.draft,
                alternatives=[other],
                bill=bill.bill_no,
                amount=amount,
                wallet=turn.money(wallet),
            )
        # By card: the hosted page is where the customer confirms; the same bill and amount give the same page.
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tracker.sender_id}/{bill.id}/{bill.remaining}"))
        send_checkout_link(
            dispatcher,
            tracker,
            amount=bill.remaining,
            currency=bill.currency or line.currency,
            reference=bill.id,
            key=key,
            time_zone=line.time_zone,
            message_key="pay_link",
            bill=bill.bill_no,
        )
        if wallet is not None and wallet >= bill.remaining:
            dispatcher.utter_message(
                buttons=[
                    self.button("payment_method", "wallet", turn.text("pay_from_wallet", balance=turn.money(wallet)))
                ],
                text=turn.text("pay_or_wallet"),
            )
        # The bill stays chosen, so "pay from my wallet" next still means this one.
        kept = {**turn.draft, "values": {**turn.values, "option": bill.id}, "asking": None}
        return end_journey() + [SlotSet(DRAFT_SLOT, kept)]


@executor("bill_wallet")
def pay_bill_from_wallet(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    language = language_of(tracker)
    payment = bss().pay_bill_from_wallet(
        params["account"], params["bill"], params["amount"], params["currency"], params["payer"], key
    )
    rows = [
        render(
            "pay_done", language, bill=params["bill_no"], amount=money(params["amount"], params["currency"], language)
        )["text"]
    ]
    wallet = wallet_balance(params["payer"])
    if wallet is not None:
        rows.append(
            render("balance_after_wallet", language, balance=money(wallet, params["currency"], language))["text"]
        )
    rows.append(render("receipt_reference", language, reference=payment)["text"])
    dispatcher.utter_message(text="\n".join(rows))
    return {"payment": payment}
