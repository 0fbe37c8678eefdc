"""Top-up (top_up): for one's own line or another number, from the mobile money wallet or by card.

Amount within the market's limits; who to top up; how to pay; then a confirmation before any money
moves (actions/dialogue/operations.py). Wallet top-ups happen at once; card ones through the gateway's
hosted page, and the payment webhook tells the customer when the money arrived.
"""

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.amounts import parse_amount
from actions.backends import bss, payments
from actions.dialogue.operations import executor, propose
from actions.dialogue.steps import StepJourney
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


class ActionTopUp(StepJourney):
    intent = "top_up"
    kinds = ("mobile",)
    collects = ("amount", "phone_number", "payment_method")

    def name(self) -> Text:
        return "action_top_up"

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        text = (tracker.latest_message or {}).get("text") or ""
        if asking == "amount" and parse_amount(text) is not None:
            return {"amount": text}
        if asking == "phone_number" and phone.candidates(text):
            return {"phone_number": text}
        return {}

    async def advance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, draft: Dict[str, Any]
    ) -> List[EventType]:
        language = language_of(tracker)
        values = draft["values"]

        def amount_text(value: float) -> str:
            return money(value, line.currency, language)

        # Whom: the customer's own line unless they named another number.
        target = line.msisdn
        if values.get("phone_number") and values["phone_number"] != OWN_LINE:
            found = phone.candidates(str(values["phone_number"]), phone.regions_for_language(language))
            target_line = next((known for known in (bss().line(n) for n in found[:2]) if known is not None), None)
            if target_line is None or target_line.payment_type != "prepaid" or target_line.currency != line.currency:
                say(dispatcher, tracker, "topup_unknown_number", number=str(values["phone_number"]))
                draft["values"].pop("phone_number")
                return self.ask(
                    dispatcher,
                    tracker,
                    draft,
                    "phone_number",
                    "topup_ask_number",
                    options=[(OWN_LINE, render("topup_own_line", language)["text"])]
                    if line.payment_type == "prepaid"
                    else [],
                )
            target = target_line.msisdn
        elif line.payment_type != "prepaid":
            say(dispatcher, tracker, "refused_not_prepaid")
            return self.ask(dispatcher, tracker, draft, "phone_number", "topup_ask_number")
        low, high = config.TOPUP_LIMITS.get(line.market, (0, float("inf")))
        amount = parse_amount(values.get("amount"))
        if amount is None or not low <= amount <= high:
            if amount is not None:
                say(dispatcher, tracker, "topup_out_of_range", low=amount_text(low), high=amount_text(high))
            draft["values"].pop("amount", None)
            choices = [
                (str(int(c)) if c == int(c) else str(c), amount_text(c))
                for c in config.TOPUP_CHOICES.get(line.market, [])
            ]
            return self.ask(
                dispatcher,
                tracker,
                draft,
                "amount",
                "topup_ask_amount",
                options=choices,
                low=amount_text(low),
                high=amount_text(high),
            )
        wallet = wallet_balance(line.msisdn)
        method = values.get("payment_method")
        if method not in ("wallet", "card") or (method == "wallet" and wallet is None):
            options = [("card", render("pay_by_card", language)["text"])]
            if wallet is not None:
                options.insert(0, ("wallet", render("pay_from_wallet", language, balance=amount_text(wallet))["text"]))
            return self.ask(
                dispatcher,
                tracker,
                draft,
                "payment_method",
                "topup_ask_method",
                options=options,
                amount=amount_text(amount),
            )
        who = render("topup_your_line", language)["text"] if target == line.msisdn else phone.display(target)
        params = {"target": target, "amount": amount, "currency": line.currency, "payer": line.msisdn}
        if method == "wallet":
            other = self.button("payment_method", "card", render("pay_by_card", language)["text"])
            return propose(
                dispatcher,
                tracker,
                line,
                self.intent,
                "top_up_wallet",
                params,
                "topup_summary_wallet",
                draft,
                alternatives=[other],
                amount=amount_text(amount),
                who=who,
                wallet=amount_text(wallet),
            )
        other = (
            [
                self.button(
                    "payment_method", "wallet", render("pay_from_wallet", language, balance=amount_text(wallet))["text"]
                )
            ]
            if wallet is not None
            else []
        )
        return propose(
            dispatcher,
            tracker,
            line,
            self.intent,
            "top_up_card",
            params,
            "topup_summary_card",
            draft,
            alternatives=other,
            amount=amount_text(amount),
            who=who,
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
