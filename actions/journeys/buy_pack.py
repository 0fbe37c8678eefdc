"""buy_pack: a pack (data, calls, SMS...) from the catalogue, paid from the main balance or the wallet
(actions/journeys/catalogue.py)."""

from typing import Text

from actions.journeys.catalogue import Purchase


class ActionBuyPack(Purchase):
    intent = "buy_pack"
    kinds = ("mobile",)
    category = "pack"

    def name(self) -> Text:
        return "action_buy_pack"
