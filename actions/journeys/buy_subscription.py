"""buy_subscription: an add-on (a recurring service) from the catalogue, except those the line already holds
(actions/journeys/catalogue.py)."""

from typing import List, Text

from actions.backends import bss
from actions.journeys.catalogue import Purchase
from clients.bss import Line, Offering


class ActionBuySubscription(Purchase):
    intent = "buy_subscription"
    kinds = ("mobile",)
    category = "addon"
    ask_key = "addon_ask_choice"
    none_key = "addon_none_available"

    def name(self) -> Text:
        return "action_buy_subscription"

    def catalogue(self, line: Line) -> List[Offering]:
        held = {a.offering_id for a in bss().add_ons(line.msisdn)}
        return [o for o in super().catalogue(line) if o.id not in held]
