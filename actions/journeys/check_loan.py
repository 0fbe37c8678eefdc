"""Loans (airtime and data advances): debt, credit limit, what is still available (check_loan).
Borrowing one is request_loan (actions/journeys/request_loan.py)."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money
from actions.i18n import language_of, say
from clients.bss import Line
from common.i18n import catalogue, render


class ActionCheckLoan(AccountAction):
    intent = "check_loan"
    # Home contracts come in too, only to hear that loans are for prepaid lines (not the generic refusal).
    kinds = ("mobile", "home")

    def name(self) -> Text:
        return "action_check_loan"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        if line.kind != "mobile" or line.payment_type != "prepaid" or not line.billing_account:
            say(dispatcher, tracker, "loan_prepaid_only")
            return []
        language = language_of(tracker)
        account = bss().billing_account(line.billing_account)
        currency = account.currency or line.currency

        def amount(value: float) -> str:
            return money(value, currency, language)

        def text(key: str, **values) -> str:
            return render(key, language, **values)["text"]

        rows = [
            text("loan_debt", amount=amount(account.loan_debt)) if account.loan_debt > 0 else text("loan_no_debt"),
            text("loan_limit", amount=amount(account.credit_limit)),
            text("loan_available", amount=amount(account.loan_credit_available)),
        ]
        for loan in account.loans:
            kind_key = f"loan_kind_{loan.loan_type}"
            kind = text(kind_key if kind_key in catalogue() else "loan_kind_other")
            when = date(loan.created_at, line.time_zone, language) if loan.created_at else ""
            rows.append(
                text(
                    "loan_item",
                    kind=kind,
                    date=when,
                    principal=amount(loan.principal),
                    fee=amount(loan.fee),
                    outstanding=amount(loan.outstanding),
                )
            )
        footer = text("loan_repayment" if account.loan_debt > 0 else "loan_repayment_future")
        dispatcher.utter_message(text="\n".join([text("loan_header")] + [f"• {r}" for r in rows] + [footer]))
        return []
