"""The last invoices of a postpaid line or home contract: period, amount, due date, status, PDF (last_invoices),
and paying one by card on the gateway's hosted page or from the mobile money wallet (pay_invoice)."""
import uuid
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clients.bss import Bill, Line
from actions.formatting import date, money, short_date
from actions.i18n import language_of, say
from common.i18n import render
from actions.journeys import DRAFT_SLOT, AccountAction, StepJourney, bss, end_journey
from actions.operations import executor, propose
from actions.topups import send_checkout_link, wallet_balance
from common import clock

SHOWN = 3  # invoices listed, newest first


def status_of(bill: Bill, now: datetime) -> str:
    """paid, overdue (due date passed and not settled) or unpaid."""
    if bill.settled:
        return "paid"
    return "overdue" if bill.due_date and bill.due_date < now else "unpaid"


class ActionLastInvoices(AccountAction):
    intent = "last_invoices"
    kinds = ("mobile", "home")

    def name(self) -> Text:
        return "action_last_invoices"

    async def serve(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line) -> List[EventType]:
        if line.payment_type == "prepaid":
            say(dispatcher, tracker, "invoices_prepaid")
            return []
        bills = bss().bills(line.billing_account) if line.billing_account else []
        if not bills:
            say(dispatcher, tracker, "invoices_none")
            return []
        language = language_of(tracker)
        now = clock.now()

        def text(key: str, **values) -> str:
            return render(key, language, **values)["text"]

        def day(moment: datetime) -> str:
            return short_date(moment, line.time_zone, language) if moment else "…"

        lines = [text("invoices_header")]
        for bill in bills[:SHOWN]:
            status = status_of(bill, now)
            label = text(f"invoice_status_{status}")
            if status != "paid" and 0 < bill.remaining < bill.amount:
                label = f"{label}, {text('invoice_left', left=money(bill.remaining, bill.currency, language))}"
            lines.append("• " + text("invoice_item", start=day(bill.period_start or bill.bill_date),
                                     end=day(bill.period_end or bill.bill_date),
                                     amount=money(bill.amount, bill.currency, language),
                                     due=date(bill.due_date, line.time_zone, language) if bill.due_date else "…",
                                     status=label))
            if bill.document_url:
                lines.append("   " + text("invoice_pdf", url=bill.document_url))
        dispatcher.utter_message(text="\n".join(lines))

        unpaid = [b for b in bills if not b.settled]
        if unpaid:
            total = money(sum(b.remaining for b in unpaid), unpaid[0].currency or line.currency, language)
            key = "invoices_to_pay_one" if len(unpaid) == 1 else "invoices_to_pay"
            say(dispatcher, tracker, key, language, count=len(unpaid), total=total)
        return []


def bill_title(bill: Bill, line: Line, language: str) -> str:
    """'oct. · Q299.00' : short enough for a button."""
    when = short_date(bill.period_start or bill.bill_date, line.time_zone, language) if (bill.period_start or bill.bill_date) else bill.bill_no
    return f"{when} · {money(bill.remaining, bill.currency or line.currency, language)}"


class ActionPayInvoice(StepJourney):
    """Pay a bill (pay_invoice): choose it, then a link to the gateway's hosted page (card numbers never
    enter the chat), or the mobile money wallet after a yes. The payment webhook confirms in the chat."""

    intent = "pay_invoice"
    kinds = ("mobile", "home")
    collects = ("option", "payment_method")

    def name(self) -> Text:
        return "action_pay_invoice"

    async def advance(self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line,
                      draft: Dict[str, Any]) -> List[EventType]:
        if line.payment_type == "prepaid":
            say(dispatcher, tracker, "invoices_prepaid")
            return end_journey()
        language = language_of(tracker)
        unpaid = [b for b in (bss().bills(line.billing_account) if line.billing_account else []) if not b.settled]
        if not unpaid:
            say(dispatcher, tracker, "pay_nothing_due")
            return end_journey()
        values = draft["values"]
        bill = next((b for b in unpaid if b.id == values.get("option")), None)
        if bill is None and len(unpaid) == 1:
            bill = unpaid[0]
        if bill is None:
            values.pop("option", None)
            oldest_first = sorted(unpaid, key=lambda b: b.bill_date.timestamp() if b.bill_date else 0)
            return self.ask(dispatcher, tracker, draft, "option", "pay_ask_bill",
                            options=[(b.id, bill_title(b, line, language)) for b in oldest_first])
        amount = money(bill.remaining, bill.currency or line.currency, language)
        wallet = wallet_balance(line.msisdn) if line.msisdn else None
        if values.get("payment_method") == "wallet" and wallet is not None:
            params = {"account": line.billing_account, "bill": bill.id, "bill_no": bill.bill_no, "amount": bill.remaining,
                      "currency": bill.currency or line.currency, "payer": line.msisdn}
            other = self.button("payment_method", "card", render("pay_by_card", language)["text"])
            return propose(dispatcher, tracker, line, self.intent, "bill_wallet", params, "pay_summary_wallet", draft,
                           alternatives=[other], bill=bill.bill_no, amount=amount,
                           wallet=money(wallet, line.currency, language))
        # By card: the hosted page is where the customer confirms; the same bill and amount give the same page.
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tracker.sender_id}/{bill.id}/{bill.remaining}"))
        send_checkout_link(dispatcher, tracker, amount=bill.remaining, currency=bill.currency or line.currency,
                           reference=bill.id, key=key, time_zone=line.time_zone, message_key="pay_link",
                           bill=bill.bill_no)
        if wallet is not None and wallet >= bill.remaining:
            dispatcher.utter_message(buttons=[self.button("payment_method", "wallet", render(
                "pay_from_wallet", language, balance=money(wallet, line.currency, language))["text"])],
                text=render("pay_or_wallet", language)["text"])
        # The bill stays chosen, so "pay from my wallet" next still means this one.
        return end_journey() + [SlotSet(DRAFT_SLOT, {**draft, "values": {**values, "option": bill.id}, "asking": None})]


@executor("bill_wallet")
def pay_bill_from_wallet(dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any],
                         key: str) -> Dict[str, Any]:
    language = language_of(tracker)
    payment = bss().pay_bill_from_wallet(params["account"], params["bill"], params["amount"], params["currency"],
                                         params["payer"], key)
    rows = [render("pay_done", language, bill=params["bill_no"],
                   amount=money(params["amount"], params["currency"], language))["text"]]
    wallet = wallet_balance(params["payer"])
    if wallet is not None:
        rows.append(render("balance_after_wallet", language, balance=money(wallet, params["currency"], language))["text"])
    rows.append(render("receipt_reference", language, reference=payment)["text"])
    dispatcher.utter_message(text="\n".join(rows))
    return {"payment": payment}
