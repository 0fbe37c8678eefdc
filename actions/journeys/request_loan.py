"""Borrowing airtime or data (request_loan), repaid automatically from the next top-up. What is owed
and still available: check_loan (actions/journeys/check_loan.py)."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.amounts import parse_amount
from actions.backends import bss
from actions.dialogue.operations import executor, propose
from actions.dialogue.state import end_journey
from actions.dialogue.steps import StepJourney
from actions.formatting import money
from actions.i18n import language_of, say
from actions.journeys.catalogue import find_offering, offer_details
from clients.bss import BillingAccount, Line, Offering
from common.i18n import render


def loan_eligible(offer: Offering, account: BillingAccount) -> bool:
    """The operator's rules, to explain before asking: within what is still available; a data advance
    only with no debt at all. The BSS checks them again on the order."""
    if offer.kind == "data" and account.loan_debt > 0:
        return False
    return offer.price + offer.fee <= account.loan_credit_available + 1e-9


class ActionRequestLoan(StepJourney):
    """Borrow airtime or data (request_loan): loan packs with their fee, eligibility explained, a yes, the advance."""

    intent = "request_loan"
    kinds = ("mobile", "home")
    collects = ("amount", "pack", "option")

    def name(self) -> Text:
        return "action_request_loan"

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        """An amount typed in the message ("lend me 500") when no entity carried it."""
        if any(values.get(k) for k in ("amount", "pack", "option")):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        return {"amount": text} if not text.startswith("/") and parse_amount(text) is not None else {}

    async def advance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, draft: Dict[str, Any]
    ) -> List[EventType]:
        if line.kind != "mobile" or line.payment_type != "prepaid" or not line.billing_account:
            say(dispatcher, tracker, "loan_prepaid_only")
            return end_journey()
        language = language_of(tracker)
        account = bss().billing_account(line.billing_account)
        offers = bss().offerings("loan", line.market, "prepaid")
        eligible = [o for o in offers if loan_eligible(o, account)]

        def amount(value: float) -> str:
            return money(value, line.currency, language)

        if not eligible:
            key = "loan_none_eligible_debt" if account.loan_debt > 0 else "loan_none_eligible"
            say(
                dispatcher,
                tracker,
                key,
                debt=amount(account.loan_debt),
                limit=amount(account.credit_limit),
                available=amount(account.loan_credit_available),
            )
            return end_journey()
        values = draft["values"]
        wanted = values.get("option") or values.get("pack")
        offer, fitting = find_offering(wanted, offers) if wanted else (None, eligible)
        if offer is None and values.get("amount") is not None:
            asked = parse_amount(values["amount"])
            offer = next((o for o in offers if o.kind == "airtime" and o.price == asked), None)
            if offer is None and asked is not None:
                say(dispatcher, tracker, "loan_amount_not_offered", amount=amount(asked))
        if offer is not None and offer not in eligible:
            reason = "loan_data_needs_no_debt" if offer.kind == "data" and account.loan_debt > 0 else "loan_over_limit"
            say(
                dispatcher,
                tracker,
                reason,
                name=offer.name,
                total=amount(offer.price + offer.fee),
                available=amount(account.loan_credit_available),
                debt=amount(account.loan_debt),
            )
            offer = None
        if offer is None:
            for key in ("option", "pack", "amount"):
                values.pop(key, None)
            shown = [o for o in fitting if o in eligible] or eligible
            return self.ask(
                dispatcher,
                tracker,
                draft,
                "option",
                "loan_ask_choice",
                options=[(o.id, f"{o.name} (+{amount(o.fee)})") for o in shown[:10]],
                available=amount(account.loan_credit_available),
            )
        what = offer_details(offer, language) if offer.kind == "data" else amount(offer.price)
        params = {
            "msisdn": line.msisdn,
            "offering": offer.id,
            "name": offer.name,
            "currency": line.currency,
            "kind": offer.kind,
        }
        return propose(
            dispatcher,
            tracker,
            line,
            self.intent,
            "loan",
            params,
            "loan_summary",
            draft,
            what=what,
            fee=amount(offer.fee),
            total=amount(offer.price + offer.fee),
        )


@executor("loan")
def take_loan(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    language = language_of(tracker)
    done = bss().order(params["msisdn"], params["offering"], "airtime", key)
    rows = [render("loan_done", language, name=params["name"])["text"]]
    if params["kind"] == "airtime" and done.balance_after is not None:
        rows.append(
            render("balance_after_airtime", language, balance=money(done.balance_after, params["currency"], language))[
                "text"
            ]
        )
    if done.loan_debt_after is not None:
        rows.append(
            render("loan_debt_after", language, debt=money(done.loan_debt_after, params["currency"], language))["text"]
        )
    rows.append(render("loan_repayment", language)["text"])
    dispatcher.utter_message(text="\n".join(rows))
    return {"loan": done.product_id}
