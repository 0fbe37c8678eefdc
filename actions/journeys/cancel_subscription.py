"""Unsubscribing from an active add-on (cancel_subscription), after an explicit yes."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import bss
from actions.dialogue.choices import match_option
from actions.dialogue.operations import executor, propose
from actions.dialogue.steps import MISSING, Step, StepJourney, Stop, Turn, asks
from actions.i18n import say
from actions.journeys.catalogue import find_offering
from actions.journeys.list_subscriptions import row
from clients.bss import Line


def add_on_chosen(turn: Turn, option: Any) -> Any:
    """The active add-on named (by product id or name, or its offer's name, size or kind); the only one if unnamed."""
    add_ons, line = turn.notes["add_ons"], turn.line
    wanted = option or turn.values.get("pack")
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
    if chosen is None and len(add_ons) == 1 and not wanted:
        chosen = add_ons[0]
    return MISSING if chosen is None else chosen


class ActionCancelSubscription(StepJourney):
    """Unsubscribe from an active add-on, after an explicit yes (cancel_subscription)."""

    intent = "cancel_subscription"
    kinds = ("mobile",)
    collects = ("pack", "option")
    steps = (
        Step(
            "option",
            check=add_on_chosen,
            question=asks(
                "cancel_ask_choice", options=lambda turn: [(a.product_id, a.name) for a in turn.notes["add_ons"]]
            ),
            forget=("pack",),
        ),
    )

    def name(self) -> Text:
        return "action_cancel_subscription"

    def start(self, turn: Turn) -> Optional[Stop]:
        turn.notes["add_ons"] = bss().add_ons(turn.line.msisdn)
        return None if turn.notes["add_ons"] else Stop("subscriptions_none")

    def finish(self, turn: Turn) -> List[EventType]:
        chosen = turn.held["option"]
        return propose(
            turn.dispatcher,
            turn.tracker,
            turn.line,
            self.intent,
            "cancel_add_on",
            {"product": chosen.product_id, "name": chosen.name},
            "cancel_summary",
            turn.draft,
            name=chosen.name,
            row=row(chosen, turn.line, turn.language),
        )


@executor("cancel_add_on")
def cancel_add_on(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    bss().cancel_add_on(params["product"], key)
    say(dispatcher, tracker, "cancel_done", name=params["name"])
    return {"cancelled": params["product"]}
