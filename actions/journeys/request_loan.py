"""Borrowing airtime or data (request_loan), repaid automatically from the next top-up. What is owed
and still available: check_loan (actions/journeys/check_loan.py)."""

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.amounts import parse_amount
from actions.backends import bss
from actions.dialogue.operations import executor, propose
from actions.dialogue.steps import Missing, Options, Step, StepJourney, Stop, Turn, asks
from actions.formatting import money
from actions.i18n import language_of
from actions.journeys.catalogue import find_offering, offer_details
from clients.bss import BillingAccount, Line, Offering
from common.i18n import render


def loan_eligible(offer: Offering, account: BillingAccount) -> bool:
    """The operator's rules, to explain before asking: within what is still available; a data advance
    only with no debt at all. The BSS checks them again on the order."""
    if offer.kind == "data" and account.loan_debt > 0:
        return False
    return offer.price + offer.fee <= account.loan_credit_available + 1e-9


def loan_chosen(turn: Turn, option: Any) -> Any:
    """The loan pack named (by id, name or kind, or an airtime amount) that the account may take."""
    offers, eligible, account = turn.notes["offers"], turn.notes["eligible"], turn.notes["account"]
    values = turn.values
    wanted = option or values.get("pack")
    offer, fitting = find_offering(wanted, offers) if wanted else (None, eligible)
    turn.notes["shown"] = ([o for o in fitting if o in eligible] or eligible)[:10]
    error: Tuple[str, Dict[str, Any]] = ("", {})
    if offer is None and values.get("amount") is not None:
        asked = parse_amount(values["amount"])
        offer = next((o for o in offers if o.kind == "airtime" and o.price == asked), None)
        if offer is None and asked is not None:
            error = ("loan_amount_not_offered", {"amount": turn.money(asked)})
    if offer is not None and offer not in eligible:
        reason = "loan_data_needs_no_debt" if offer.kind == "data" and account.loan_debt > 0 else "loan_over_limit"
        total, available = turn.money(offer.price + offer.fee), turn.money(account.loan_credit_available)
        debt = turn.money(account.loan_debt)
        return Missing(reason, {"name": offer.name, "total": total, "available": available, "debt": debt})
    return offer if offer is not None else Missing(*error)


def loan_options(turn: Turn) -> Options:
    return [(o.id, f"{o.name} (+{turn.money(o.fee)})") for o in turn.notes["shown"]]


class ActionRequestLoan(StepJourney):
    """Borrow airtime or data (request_loan): loan packs with their fee, eligibility explained, a yes, the advance."""

    intent = "request_loan"
    kinds = ("mobile", "home")
    collects = ("amount", "pack", "option")
    steps = (
        Step(
            "option",
            check=loan_chosen,
            question=asks(
                "loan_ask_choice",
                options=loan_options,
                values=lambda turn: {"available": turn.money(turn.notes["account"].loan_credit_available)},
            ),
            forget=("pack", "amount"),
        ),
    )

    def name(self) -> Text:
        return "action_request_loan"

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        """An amount typed in the message ("lend me 500") when no entity carried it."""
        if any(values.get(k) for k in ("amount", "pack", "option")):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        return {"amount": text} if not text.startswith("/") and parse_amount(text) is not None else {}

    def start(self, turn: Turn) -> Optional[Stop]:
        """Prepaid mobile lines only, with something the account may still borrow."""
        line = turn.line
        if line.kind != "mobile" or line.payment_type != "prepaid" or not line.billing_account:
            return Stop("loan_prepaid_only")
        account = turn.notes["account"] = bss().billing_account(line.billing_account)
        offers = turn.notes["offers"] = bss().offerings("loan", line.market, "prepaid")
        turn.notes["eligible"] = [o for o in offers if loan_eligible(o, account)]
        if turn.notes["eligible"]:
            return None
        key = "loan_none_eligible_debt" if account.loan_debt > 0 else "loan_none_eligible"
        limits = {"limit": account.credit_limit, "available": account.loan_credit_available}
        return Stop(key, {"debt": turn.money(account.loan_debt), **{k: turn.money(v) for k, v in limits.items()}})

    def finish(self, turn: Turn) -> List[EventType]:
        offer: Offering = turn.held["option"]
        what = offer_details(offer, turn.language) if offer.kind == "data" else turn.money(offer.price)
        line = turn.line
        params = {
            "msisdn": line.msisdn,
            "offering": offer.id,
            "name": offer.name,
            "currency": line.currency,
            "kind": offer.kind,
        }
        return propose(
            turn.dispatcher,
            turn.tracker,
            line,
            self.intent,
            "loan",
            params,
            "loan_summary",
            turn.draft,
            what=what,
            fee=turn.money(offer.fee),
            total=turn.money(offer.price + offer.fee),
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
