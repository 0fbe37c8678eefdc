"""The last invoices of a postpaid line or home contract: period, amount, due date, status, PDF (last_invoices).
Paying one is pay_invoice (actions/journeys/pay_invoice.py)."""

from datetime import datetime
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money, short_date
from actions.i18n import language_of, say
from clients.bss import Bill, Line
from common import clock
from common.i18n import render

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

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
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
            lines.append(
                "• "
                + text(
                    "invoice_item",
                    start=day(bill.period_start or bill.bill_date),
                    end=day(bill.period_end or bill.bill_date),
                    amount=money(bill.amount, bill.currency, language),
                    due=date(bill.due_date, line.time_zone, language) if bill.due_date else "…",
                    status=label,
                )
            )
            if bill.document_url:
                lines.append("   " + text("invoice_pdf", url=bill.document_url))
        dispatcher.utter_message(text="\n".join(lines))

        unpaid = [b for b in bills if not b.settled]
        if unpaid:
            total = money(sum(b.remaining for b in unpaid), unpaid[0].currency or line.currency, language)
            key = "invoices_to_pay_one" if len(unpaid) == 1 else "invoices_to_pay"
            say(dispatcher, tracker, key, language, count=len(unpaid), total=total)
        return []
