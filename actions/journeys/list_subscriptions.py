"""Add-ons: the recurring services active on a mobile line, their price and renewal (list_subscriptions).
Unsubscribing is cancel_subscription (actions/journeys/cancel_subscription.py), subscribing a purchase
(actions/journeys/buy_subscription.py)."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money
from actions.i18n import language_of, say
from clients.bss import AddOn, Line
from common.i18n import render


def row(add_on: AddOn, line: Line, language: str) -> str:
    if add_on.monthly_price is None:
        return render("subscription_row_free", language, name=add_on.name)["text"]
    price = money(add_on.monthly_price, add_on.currency or line.currency, language)
    if add_on.renewal_at is None:
        return render("subscription_row_no_renewal", language, name=add_on.name, price=price)["text"]
    return render(
        "subscription_row",
        language,
        name=add_on.name,
        price=price,
        renewal=date(add_on.renewal_at, line.time_zone, language),
    )["text"]


class ActionListSubscriptions(AccountAction):
    intent = "list_subscriptions"
    kinds = ("mobile",)

    def name(self) -> Text:
        return "action_list_subscriptions"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        language = language_of(tracker)
        add_ons = bss().add_ons(line.msisdn)
        if not add_ons:
            say(dispatcher, tracker, "subscriptions_none")
            return []
        header = render("subscriptions_header", language)["text"]
        dispatcher.utter_message(text="\n".join([header] + [f"• {row(a, line, language)}" for a in add_ons]))
        return []
