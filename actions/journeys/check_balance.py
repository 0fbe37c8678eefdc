"""Balances: main, bonus and mobile-money wallet, with expiry where there is one (check_balance)."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money
from actions.i18n import language_of
from clients.bss import Line
from common import clock
from common.i18n import render

MONEY_BUCKETS = ("main", "bonus", "wallet")


class ActionCheckBalance(AccountAction):
    intent = "check_balance"
    kinds = ("mobile",)

    def name(self) -> Text:
        return "action_check_balance"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        language = language_of(tracker)
        now = clock.now()
        live = [
            b
            for b in bss().buckets(line.msisdn)
            if b.status == "active" and (b.expires_at is None or b.expires_at > now)
        ]
        rows = []
        for kind in MONEY_BUCKETS:
            buckets = [b for b in live if b.bucket_type == kind]
            if not buckets and kind != "main":
                continue
            amount = sum(b.amount for b in buckets)
            expiry = min((b.expires_at for b in buckets if b.expires_at), default=None)
            key = f"balance_{kind}_until" if expiry else f"balance_{kind}"
            rows.append(
                render(
                    key,
                    language,
                    amount=money(amount, line.currency, language),
                    until=date(expiry, line.time_zone, language) if expiry else "",
                )["text"]
            )
        header = render("balance_header", language)["text"]
        dispatcher.utter_message(text="\n".join([header] + [f"• {r}" for r in rows]))
        return []
