"""Add-ons: the recurring services active on a mobile line, their price and renewal (list_subscriptions),
and unsubscribing from one (cancel_subscription). Subscribing is a purchase (actions/purchases.py)."""
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clients.bss import AddOn, Line
from actions.formatting import date, money
from actions.i18n import language_of, say
from common.i18n import render
from actions.journeys import AccountAction, StepJourney, bss, end_journey, match_option
from actions.operations import executor, propose
from actions.purchases import find_offering


def row(add_on: AddOn, line: Line, language: str) -> str:
    if add_on.monthly_price is None:
        return render("subscription_row_free", language, name=add_on.name)["text"]
    price = money(add_on.monthly_price, add_on.currency or line.currency, language)
    if add_on.renewal_at is None:
        return render("subscription_row_no_renewal", language, name=add_on.name, price=price)["text"]
    return render("subscription_row", language, name=add_on.name, price=price,
                  renewal=date(add_on.renewal_at, line.time_zone, language))["text"]


class ActionListSubscriptions(AccountAction):
    intent = "list_subscriptions"
    kinds = ("mobile",)

    def name(self) -> Text:
        return "action_list_subscriptions"

    async def serve(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line) -> List[EventType]:
        language = language_of(tracker)
        add_ons = bss().add_ons(line.msisdn)
        if not add_ons:
            say(dispatcher, tracker, "subscriptions_none")
            return []
        header = render("subscriptions_header", language)["text"]
        dispatcher.utter_message(text="\n".join([header] + [f"• {row(a, line, language)}" for a in add_ons]))
        return []


class ActionCancelSubscription(StepJourney):
    """Unsubscribe from an active add-on, after an explicit yes (cancel_subscription)."""

    intent = "cancel_subscription"
    kinds = ("mobile",)
    collects = ("pack", "option")

    def name(self) -> Text:
        return "action_cancel_subscription"

    async def advance(self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line,
                      draft: Dict[str, Any]) -> List[EventType]:
        language = language_of(tracker)
        add_ons = bss().add_ons(line.msisdn)
        if not add_ons:
            say(dispatcher, tracker, "subscriptions_none")
            return end_journey()
        wanted = draft["values"].get("option") or draft["values"].get("pack")
        chosen = next((a for a in add_ons if a.product_id == wanted), None)
        if chosen is None and wanted:
            picked = match_option([[a.product_id, a.name] for a in add_ons], str(wanted))
            chosen = next((a for a in add_ons if a.product_id == picked), None)
            if chosen is None:
                kinds = {a.offering_id: a for a in add_ons}
                offer, _ = find_offering(wanted, [o for o in bss().offerings("addon", line.market, line.payment_type)
                                                  if o.id in kinds])
                chosen = kinds.get(offer.id) if offer else None
        if chosen is None:
            if len(add_ons) == 1 and not wanted:
                chosen = add_ons[0]
            else:
                draft["values"].pop("option", None), draft["values"].pop("pack", None)
                return self.ask(dispatcher, tracker, draft, "option", "cancel_ask_choice",
                                options=[(a.product_id, a.name) for a in add_ons])
        params = {"product": chosen.product_id, "name": chosen.name}
        return propose(dispatcher, tracker, line, self.intent, "cancel_add_on", params, "cancel_summary", draft,
                       name=chosen.name, row=row(chosen, line, language))


@executor("cancel_add_on")
def cancel_add_on(dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any],
                  key: str) -> Dict[str, Any]:
    bss().cancel_add_on(params["product"], key)
    say(dispatcher, tracker, "cancel_done", name=params["name"])
    return {"cancelled": params["product"]}
