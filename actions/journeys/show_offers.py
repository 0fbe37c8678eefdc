"""Offers (show_offers): the next best offers the operator ranks on the customer's recent usage,
each buyable in one tap (the tap goes straight to the purchase's confirmation)."""

import json
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import money
from actions.i18n import language_of, say
from actions.journeys.catalogue import offer_details
from clients.bss import Line
from common.i18n import catalogue, render

MAX_OFFERS = 3
# the journey that buys each category of offer
BUY_INTENT = {"pack": "buy_pack", "addon": "buy_subscription", "loan": "request_loan"}


class ActionShowOffers(AccountAction):
    intent = "show_offers"
    kinds = ("mobile",)

    def name(self) -> Text:
        return "action_show_offers"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        language = language_of(tracker)
        offers = [o for o in bss().recommendations(line.msisdn) if o.category in BUY_INTENT][:MAX_OFFERS]
        if not offers:
            say(dispatcher, tracker, "offers_none")
            return []
        rows, buttons = [render("offers_header", language)["text"]], []
        for offer in offers:
            reason_key = f"offer_reason_{offer.reason_code}"
            reason = render(reason_key if reason_key in catalogue() else "offer_reason_POPULAR", language)["text"]
            details = offer_details(offer, language)
            price = money(offer.price, offer.currency or line.currency, language)
            rows.append(f"• {offer.name}{f' ({details})' if details else ''}: {price}. {reason}")
            payload = f"/{BUY_INTENT[offer.category]}{json.dumps({'option': offer.id})}"
            buttons.append({"title": offer.name, "payload": payload})
        dispatcher.utter_message(text="\n".join(rows), buttons=buttons)
        return []
