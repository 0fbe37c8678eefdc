"""Unsubscribing from an active add-on (cancel_subscription), after an explicit yes."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import bss
from actions.dialogue.choices import match_option
from actions.dialogue.operations import executor, propose
from actions.dialogue.state import end_journey
from actions.dialogue.steps import StepJourney
from actions.i18n import language_of, say
from actions.journeys.catalogue import find_offering
from actions.journeys.list_subscriptions import row
from clients.bss import Line


class ActionCancelSubscription(StepJourney):
    """Unsubscribe from an active add-on, after an explicit yes (cancel_subscription)."""

    intent = "cancel_subscription"
    kinds = ("mobile",)
    collects = ("pack", "option")

    def name(self) -> Text:
        return "action_cancel_subscription"

    async def advance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, draft: Dict[str, Any]
    ) -> List[EventType]:
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
                offer, _ = find_offering(
                    wanted, [o for o in bss().offerings("addon", line.market, line.payment_type) if o.id in kinds]
                )
                chosen = kinds.get(offer.id) if offer else None
        if chosen is None:
            if len(add_ons) == 1 and not wanted:
                chosen = add_ons[0]
            else:
                draft["values"].pop("option", None), draft["values"].pop("pack", None)
                return self.ask(
                    dispatcher,
                    tracker,
                    draft,
                    "option",
                    "cancel_ask_choice",
                    options=[(a.product_id, a.name) for a in add_ons],
                )
        params = {"product": chosen.product_id, "name": chosen.name}
        return propose(
            dispatcher,
            tracker,
            line,
            self.intent,
            "cancel_add_on",
            params,
            "cancel_summary",
            draft,
            name=chosen.name,
            row=row(chosen, line, language),
        )


@executor("cancel_add_on")
def cancel_add_on(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    bss().cancel_add_on(params["product"], key)
    say(dispatcher, tracker, "cancel_done", name=params["name"])
    return {"cancelled": params["product"]}
