"""Top-up (top_up): for one's own line or another number, from the mobile money wallet or by card.

Amount within the market's limits; who to top up; how to pay; then a confirmation before any money
moves (actions/dialogue/operations.py). Wallet top-ups happen at once; card ones through the gateway's
hosted page, and the payment webhook tells the customer when the money arrived.
"""

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.amounts import parse_amount
from actions.backends import bss, payments
from actions.dialogue.operations import executor, propose
from actions.dialogue.steps import MISSING, Missing, Options, Step, StepJourney, Turn, asks
from actions.formatting import date_time, money
from actions.i18n import language_of, say
from clients.bss import Line
from common import config, phone
from common.i18n import render

OWN_LINE = "own"  # the "my own number" choice


def wallet_balance(msisdn: str) -> Optional[float]:
    """The line's mobile money balance, or None when it has no wallet."""
    wallets = [b for b in bss().buckets(msisdn) if b.bucket_type == "wallet" and b.status == "active"]
    return sum(b.amount for b in wallets) if wallets else None


def main_balance(msisdn: str) -> float:
    return sum(b.amount for b in bss().buckets(msisdn) if b.bucket_type == "main" and b.status == "active")


def send_checkout_link(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    amount: float,
    currency: str,
    reference: str,
    key: str,
    time_zone: str,
    message_key: str,
    **values: Any,
) -> Dict[str, Any]:
    """Creates (or, with the same key, finds again) the hosted payment page and sends its link."""
    language = language_of(tracker)
    checkout = payments().create_checkout(
        amount=amount,
        currency=currency,
        reference=reference,
        conversation_id=tracker.sender_id,
        success_url=config.PAYMENTS_SUCCESS_URL,
        cancel_url=config.PAYMENTS_CANCEL_URL,
        idempotency_key=key,
        locale=language,
    )
    until = (
        date_time(datetime.fromtimestamp(checkout.expires_at, timezone.utc), time_zone, language)
        if checkout.expires_at
        else ""
    )
    say(
        dispatcher,
        tracker,
        message_key,
        url=checkout.url or "",
        until=until,
        amount=money(amount, currency, language),
        **values,
    )
    return {"checkout": checkout.id}


def target_of(turn: Turn, number: Any) -> Any:
    """Whom to top up: the customer's own prepaid line unless they named another prepaid number in their currency."""
    line = turn.line
    if number and number != OWN_LINE:
        found = phone.candidates(str(number), phone.regions_for_language(turn.language))
        target = next((known for known in (bss().line(n) for n in found[:2]) if known is not None), None)
        if target is None or target.payment_type != "prepaid" or target.currency != line.currency:
            return Missing("topup_unknown_number", {"number": str(number)})
        return target.msisdn
    if line.payment_type != "prepaid":
        return Missing("refused_not_prepaid")
    return line.msisdn


def own_line_option(turn: Turn) -> Options:
    return [(OWN_LINE, turn.text("topup_own_line"))] if turn.line.payment_type == "prepaid" else []


def limits(turn: Turn) -> Tuple[float, float]:
    return config.TOPUP_LIMITS.get(turn.line.market, (0, float("inf")))


def amount_in_limits(turn: Turn, typed: Any) -> Any:
    """The amount, within the market's limits."""
    amount, (low, high) = parse_amount(typed), limits(turn)
    if amount is None:
        return MISSING
    if not low <= amount <= high:
        return Missing("topup_out_of_range", {"low": turn.money(low), "high": turn.money(high)})
    return amount


def amount_choices(turn: Turn) -> Options:
    return [
        (str(int(c)) if c == int(c) else str(c), turn.money(c)) for c in config.TOPUP_CHOICES.get(turn.line.market, [])
    ]


def wallet_of(turn: Turn) -> Optional[float]:
    if "wallet" not in turn.notes:
        turn.notes["wallet"] = wallet_balance(turn.line.msisdn)
    return turn.notes["wallet"]


def method_available(turn: Turn, method: Any) -> Any:
    """Card always; the wallet when the line has one."""
    if method == "card" or (method == "wallet" and wallet_of(turn) is not None):
        return method
    return MISSING


def methods(turn: Turn) -> Options:
    wallet = wallet_of(turn)
    card = [("card", turn.text("pay_by_card"))]
    return ([("wallet", turn.text("pay_from_wallet", balance=turn.money(wallet)))] if wallet is not None else []) + card


class ActionTopUp(StepJourney):
    intent = "top_up"
    kinds = ("mobile",)
    collects = ("amount", "phone_number", "payment_method")
    steps = (
        Step("phone_number", check=target_of, question=asks("topup_ask_number", options=own_line_option)),
        Step(
            "amount",
            check=amount_in_limits,
            question=asks(
                "topup_ask_amount",
                options=amount_choices,
                values=lambda turn: {"low": turn.money(limits(turn)[0]), "high": turn.money(limits(turn)[1])},
            ),
        ),
        Step(
            "payment_method",
            check=method_available,
            question=asks(
                "topup_ask_method", options=methods, values=lambda turn: {"amount": turn.money(turn.held["amount"])}
            ),
        ),
    )

    def name(self) -> Text:
        return "action_top_up"

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        text = (tracker.latest_message or {}).get("text") or ""
        if asking == "amount" and parse_amount(text) is not None:
            return {"amount": text}
        if asking == "phone_number" and phone.candidates(text):
            return {"phone_number": text}
        return {}

    def finish(self, turn: Turn) -> List[EventType]:
        """Proposes the top-up, with the other way to pay as a button."""
        target, amount, method = turn.held["phone_number"], turn.held["amount"], turn.held["payment_method"]
        line = turn.line
        who = turn.text("topup_your_line") if target == line.msisdn else phone.display(target)
        params = {"target": target, "amount": amount, "currency": line.currency, "payer": line.msisdn}
        other = [self.button("payment_method", value, title) for value, title in methods(turn) if value != method]
        shown: Dict[str, Any] = {"amount": turn.money(amount), "who": who}
        if method == "wallet":
            shown["wallet"] = turn.money(wallet_of(turn))
        return propose(
            turn.dispatcher,
            turn.tracker,
            line,
            self.intent,
            f"top_up_{method}",
            params,
            f"topup_summary_{method}",
            turn.draft,
            alternatives=other,
            **shown,
        )


@executor("top_up_wallet")
def top_up_from_wallet(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    language = language_of(tracker)
    done = bss().top_up(params["target"], params["amount"], params["currency"], params["payer"], key)

    def amount_text(value: float) -> str:
        return money(value, params["currency"], language)

    rows = [render("topup_done", language, amount=amount_text(done.amount), who=phone.masked(params["target"]))["text"]]
    if done.loan_repayment:
        rows.append(render("topup_loan_repaid", language, amount=amount_text(done.loan_repayment))["text"])
    if params["target"] == line.msisdn:  # someone else's balance is theirs to see, not ours to show
        rows.append(render("topup_new_balance", language, balance=amount_text(done.balance_after))["text"])
    wallet = wallet_balance(line.msisdn)
    if wallet is not None:
        rows.append(render("topup_wallet_after", language, balance=amount_text(wallet))["text"])
    rows.append(render("receipt_reference", language, reference=key[:8].upper())["text"])
    dispatcher.utter_message(text="\n".join(rows))
    return {"credited": done.credited, "loan_repayment": done.loan_repayment}


@executor("top_up_card")
def top_up_by_card(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    return send_checkout_link(
        dispatcher,
        tracker,
        amount=params["amount"],
        currency=params["currency"],
        reference=f"topup:{params['target']}",
        key=key,
        time_zone=line.time_zone,
        message_key="topup_pay_link",
    )
